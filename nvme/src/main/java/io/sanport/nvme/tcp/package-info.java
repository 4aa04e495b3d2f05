/** NVMe/TCP PDU headers (NVMe/TCP Transport Specification 1.0) and the CRC-32C digest helper. */
package io.sanport.nvme.tcp;
