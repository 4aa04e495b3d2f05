package io.sanport.client;

import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import io.sanport.nvme.fabrics.PropertySetCommand;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;

/**
 * The controller's registers, reached with the fabrics Property Get/Set commands on the admin queue (Linux
 * {@code nvmf_reg_read32/64}, {@code nvmf_reg_write32}), and the two things a host does with them: enable the
 * controller (CC.EN, then CSTS.RDY within CAP.TO, as {@code nvme_enable_ctrl}) and shut it down in order (CC.SHN
 * normal, then CSTS.SHST complete, as {@code nvme_disable_ctrl} with shutdown).
 */
final class ControllerRegisters {
    private static final int SHUTDOWN_TIMEOUT_MILLIS = 5_000;

    private final RemoteController controller;
    private final NvmeQueue admin;
    private final long timeoutMillis;
    private long cap;
    private int vs;
    private int cc;

    ControllerRegisters(RemoteController controller, NvmeQueue admin, long timeoutMillis) {
        this.controller = controller;
        this.admin = admin;
        this.timeoutMillis = timeoutMillis;
    }

    /** CAP as read at enable. */
    long cap() {
        return cap;
    }

    /** VS as read at enable. */
    int version() {
        return vs;
    }

    /** Property Get (fabrics); {@code eightBytes} for CAP. */
    long get(int offset, boolean eightBytes) throws IOException {
        return admin.execute("Property Get 0x" + Integer.toHexString(offset), sqe -> {
            FabricsCommand.opcode(sqe, FabricsCommand.OPCODE);
            FabricsCommand.fctype(sqe, FabricsCommand.FCTYPE_PROPERTY_GET);
            PropertyGetCommand.attrib(sqe, eightBytes ? PropertyGetCommand.ATTRIB_SIZE_8 : PropertyGetCommand.ATTRIB_SIZE_4);
            PropertyGetCommand.ofst(sqe, offset);
        }, null, false, timeoutMillis);
    }

    /** Property Set of a 4-byte property (only CC is writable). */
    void set(int offset, int value) throws IOException {
        admin.execute("Property Set 0x" + Integer.toHexString(offset), sqe -> {
            FabricsCommand.opcode(sqe, FabricsCommand.OPCODE);
            FabricsCommand.fctype(sqe, FabricsCommand.FCTYPE_PROPERTY_SET);
            PropertySetCommand.attrib(sqe, PropertyGetCommand.ATTRIB_SIZE_4);
            PropertySetCommand.ofst(sqe, offset);
            PropertySetCommand.value(sqe, Integer.toUnsignedLong(value));
        }, null, false, timeoutMillis);
    }

    /** Reads CAP, writes CC (NVM command set, 64-byte SQEs, 16-byte CQEs), sets CC.EN, waits for CSTS.RDY, reads VS. */
    void enable() throws IOException {
        cap = get(Property.CAP, true);
        if (Property.capMpsmin(cap) != 0) {
            throw new IOException(controller + ": CAP.MPSMIN " + Property.capMpsmin(cap) + " needs pages above 4 KiB; unsupported");
        }
        cc = Property.CC_CSS_NVM | 6 << Property.CC_IOSQES_SHIFT | 4 << Property.CC_IOCQES_SHIFT;
        set(Property.CC, cc);
        cc |= Property.CC_EN;
        set(Property.CC, cc);
        waitReady();
        vs = (int) get(Property.VS, false);
    }

    private void waitReady() throws IOException {
        long timeoutNanos = TimeUnit.MILLISECONDS.toNanos((Property.capTo(cap) + 1) * 500L);
        long start = System.nanoTime();
        while (true) {
            int csts = (int) get(Property.CSTS, false);
            if (csts == Property.CSTS_GONE) {
                throw new IOException(controller + ": CSTS reads FFFFFFFFh, the controller is gone");
            }
            if ((csts & Property.CSTS_CFS) != 0) {
                throw new IOException(controller + ": controller fatal status (CSTS 0x" + Integer.toHexString(csts)
                        + ") after CC 0x" + Integer.toHexString(cc));
            }
            if ((csts & Property.CSTS_RDY) != 0) {
                return;
            }
            if (System.nanoTime() - start > timeoutNanos) {
                throw new IOException(controller + ": CSTS.RDY not set within CAP.TO ("
                        + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms)");
            }
            sleep(1);
        }
    }

    /** CC.SHN = normal, then CSTS.SHST polled until complete (fact sheet §7.3). */
    void shutdown() throws IOException {
        set(Property.CC, cc & ~Property.CC_SHN_MASK | Property.CC_SHN_NORMAL);
        long start = System.nanoTime();
        while (true) {
            int csts = (int) get(Property.CSTS, false);
            if ((csts & Property.CSTS_SHST_MASK) == Property.CSTS_SHST_COMPLETE) {
                return;
            }
            if (System.nanoTime() - start > TimeUnit.MILLISECONDS.toNanos(SHUTDOWN_TIMEOUT_MILLIS)) {
                throw new IOException(controller + ": shutdown not complete after " + SHUTDOWN_TIMEOUT_MILLIS
                        + " ms (CSTS 0x" + Integer.toHexString(csts) + ")");
            }
            sleep(10);
        }
    }

    private static void sleep(long millis) throws InterruptedIOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }
}
