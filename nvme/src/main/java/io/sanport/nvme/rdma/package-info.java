/**
 * NVMe/RDMA wire structures (NVMe-oF 1.1 §7.3.2, NVMe/RDMA Transport Specification 1.0): the RDMA CM private
 * data a host and a controller exchange when a queue's QP connects. Linux {@code include/linux/nvme-rdma.h}.
 */
package io.sanport.nvme.rdma;
