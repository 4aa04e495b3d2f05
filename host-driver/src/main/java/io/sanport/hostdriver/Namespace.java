package io.sanport.hostdriver;

import io.sanport.iop.BlockDevice;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One namespace of a subsystem, backed by a device the I/O processors drive. The device has the same index in
 * every reactor's ring of one processor ({@link #deviceIndex}); the geometry is the device's, fixed while enabled.
 */
public final class Namespace {
    private final int nsid;
    private final UUID uuid;
    private final byte[] nguid;
    private final BlockDevice device;
    private final int[] deviceIndex; // by I/O processor ordinal
    private final int lbaShift;
    private final String path; // as the config names it
    private final int anaGrpId;
    private volatile boolean enabled;
    private volatile boolean removed;
    int statsSlot = -1; // where reactors count its I/O ({@link TargetStats}); -1: not counted
    // why writes are refused: a flush or FUA write failed, so acknowledged data may be lost; null while fine
    private final AtomicReference<String> writeFailure = new AtomicReference<>();

    Namespace(int nsid, UUID uuid, byte[] nguid, BlockDevice device, int[] deviceIndex, boolean enabled) {
        this(nsid, uuid, nguid, device, deviceIndex, enabled, device.name());
    }

    Namespace(int nsid, UUID uuid, byte[] nguid, BlockDevice device, int[] deviceIndex, boolean enabled, String path) {
        this(nsid, uuid, nguid, device, deviceIndex, enabled, path, AnaGroup.DEFAULT_GRPID);
    }

    Namespace(int nsid, UUID uuid, byte[] nguid, BlockDevice device, int[] deviceIndex, boolean enabled, String path,
              int anaGrpId) {
        this.nsid = nsid;
        this.anaGrpId = anaGrpId;
        this.path = path;
        this.uuid = uuid;
        this.nguid = nguid.clone();
        this.device = device;
        this.deviceIndex = deviceIndex.clone();
        this.lbaShift = Integer.numberOfTrailingZeros(device.logicalBlockSize());
        this.enabled = enabled;
    }

    public int nsid() { return nsid; }
    /** Its ANA group (Identify Namespace ANAGRPID): which state of a port applies to it. */
    public int anaGrpId() { return anaGrpId; }
    public UUID uuid() { return uuid; }
    public byte[] nguid() { return nguid.clone(); }
    byte[] nguidRaw() { return nguid; }
    public BlockDevice device() { return device; }

    /** The device path the configuration names. */
    public String path() { return path; }

    /**
     * The device's index in the rings of I/O processor {@code processor}; -1 once the namespace was removed, so
     * a command that passed its checks before the removal is refused by the reactor (Invalid Namespace) instead
     * of reaching a slot that a later device may take.
     */
    public int deviceIndex(int processor) { return removed ? -1 : deviceIndex[processor]; }

    /** Its index in every processor, removed or not (the control path that drains it). */
    int[] deviceIndexes() { return deviceIndex.clone(); }

    /** Whether the namespace was taken out of its subsystem. */
    public boolean removed() { return removed; }

    void remove() { removed = true; }

    /** log2 of the LBA size: Identify NS LBAF0.LBADS. */
    public int lbaShift() { return lbaShift; }

    /** NSZE = NCAP = NUSE. */
    public long blocks() { return device.size() >>> lbaShift; }

    public boolean readOnly() { return device.readOnly(); }

    public boolean enabled() { return enabled; }

    void enabled(boolean v) {
        if (v && !enabled) {
            writeFailure.set(null); // the administrator re-enabled it: a fresh start
        }
        enabled = v;
    }

    /** Why writes and flushes are refused (a flush failed), or null. */
    public String writeFailure() { return writeFailure.get(); }

    /** Records that durability was lost; true the first time only (the caller logs it once). */
    boolean failWrites(String why) {
        return writeFailure.compareAndSet(null, why);
    }

    @Override
    public String toString() {
        return "namespace " + Integer.toUnsignedString(nsid) + " (" + device.name() + ")";
    }
}
