package io.sanport.bindings.nvme;

/**
 * The NVMe passthrough ioctl and io_uring command numbers of {@code <linux/nvme_ioctl.h>} (Linux 6.1), as
 * listed in native-headers/nvme_ioctl.bind, plus the io_uring flag that goes with the commands.
 */
public final class NvmeIoctl {
    private NvmeIoctl() {}

    /** _IO('N', 0x40): returns the namespace id of the fd's namespace. */
    public static final long NVME_IOCTL_ID = 0x4e40L;
    /** _IOWR('N', 0x41, struct nvme_admin_cmd). */
    public static final long NVME_IOCTL_ADMIN_CMD = 0xc0484e41L;
    /** _IOWR('N', 0x43, struct nvme_passthru_cmd). */
    public static final long NVME_IOCTL_IO_CMD = 0xc0484e43L;
    /** _IOWR('N', 0x80, struct nvme_uring_cmd): the {@code sqe->cmd_op} of an I/O command. */
    public static final long NVME_URING_CMD_IO = 0xc0484e80L;
    /** _IOWR('N', 0x82, struct nvme_uring_cmd): the {@code sqe->cmd_op} of an admin command. */
    public static final long NVME_URING_CMD_ADMIN = 0xc0484e82L;

    /**
     * {@code <linux/io_uring.h>} {@code sqe->uring_cmd_flags}: the command's data is in registered buffer
     * {@code sqe->buf_index} (Linux 6.1+; earlier kernels refuse any flag with EINVAL).
     */
    public static final int IORING_URING_CMD_FIXED = 1;
}
