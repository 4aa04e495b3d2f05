/** NVMe over Fabrics commands (opcode 0x7F), Connect data, controller properties and the discovery log page. */
package io.sanport.nvme.fabrics;
