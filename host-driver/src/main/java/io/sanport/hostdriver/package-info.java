/**
 * The host driver: the NVMe-oF target core between the fabric and the disks, in the four parts of the design.
 * <ul>
 *   <li><b>Remote Transport</b> ({@link io.sanport.hostdriver.RemoteTransport}, {@link io.sanport.hostdriver.RemoteQueue}):
 *       NVMe/TCP and NVMe/RDMA, found with ServiceLoader; they move capsules and data. {@link
 *       io.sanport.hostdriver.LoopTransport} ("loop") is the in-process one: a host in the same JVM, no fabric.</li>
 *   <li><b>Connection Manager</b> ({@link io.sanport.hostdriver.ConnectionManager}): binds each new queue to one reactor,
 *       creates its {@link io.sanport.hostdriver.QueuePair}, admits the host at Connect and sizes the queue; the
 *       {@link io.sanport.hostdriver.MemoryRegistry} records each reactor's pool: fixed buffers of its ring, lkey per
 *       RDMA protection domain.</li>
 *   <li><b>Local Transport</b> ({@link io.sanport.hostdriver.LocalTransport}): hands a request's block I/O to the I/O
 *       processor and brings its completion back ({@code RingLocalTransport}; an in-memory one in the tests).</li>
 *   <li><b>I/O processor</b>: iop's {@link io.sanport.iop.Reactor}, one io_uring ring per reactor thread.</li>
 * </ul>
 *
 * <h2>One 4 KiB write over NVMe/TCP</h2>
 * <ol>
 *   <li>Connection Manager: the listener's accept completes; {@link io.sanport.hostdriver.Target#nextReactor} picks a
 *       reactor, and on it the connection gets its queue pair ({@link io.sanport.hostdriver.Target#newQueue}). At the
 *       queue's Connect, Fabrics parses the command and {@code ConnectionManager.admit} checks subsystem and host,
 *       finds the controller and sizes the queue pair (SQSIZE + 1 + spare slots; the transport grows with it).</li>
 *   <li>Remote Transport: a RECV on the reactor's ring brings the CapsuleCmd PDU (SQE + 4 KiB in-capsule data,
 *       within {@code Capsule.IN_CAPSULE_DATA}) into the connection's staging buffer; its {@code PduReceiver}
 *       checks the header, takes a {@link io.sanport.hostdriver.Request} slot
 *       ({@link io.sanport.hostdriver.QueuePair#acquire}), copies the SQE in, hands the slot's {@code TcpCommand}
 *       (nvmet's {@code nvmet_tcp_cmd}, holding that Request) to the core and calls
 *       {@link io.sanport.hostdriver.QueuePair#start}.</li>
 *   <li>Core: NEW: flags, SGL1 ({@link io.sanport.hostdriver.RemoteQueue#mapData}), namespace and LBA range are
 *       checked before any data moves; NEED_BUFFER: a buffer from the reactor's pool (or the reactor's FIFO until
 *       one is released); TRANSFERRING_FROM_HOST: {@link io.sanport.hostdriver.RemoteQueue#receiveData}.</li>
 *   <li>Remote Transport: {@code receiveData} goes to the request's {@code TcpCommand}: its in-capsule data is next
 *       in the stream, so the {@code PduReceiver}, on return from {@code start}, copies the 4 KiB from its staging
 *       buffer into the pool buffer (large data comes by R2T + H2CData, received straight into it) and the command
 *       calls {@link io.sanport.hostdriver.QueuePair#dataReceived}. A receiver that paused for a buffer resumes
 *       through {@link io.sanport.hostdriver.QueuePair#runSoon}, right after the core returns: no ring round trip.</li>
 *   <li>Local Transport: READY_TO_EXECUTE, EXECUTING: {@code Io.execute} calls
 *       {@link io.sanport.hostdriver.LocalTransport#write}; the ring one fills the slot's reused {@code IoRequest}.</li>
 *   <li>I/O processor: the reactor's ring writes the pool buffer to the device (WRITE_FIXED: the whole pool is the ring's
 *       fixed buffer {@link io.sanport.hostdriver.MemoryRegistry#RING_BUFFER}, registered once); its completion maps errno to a status ({@code StatusMapper}) and calls
 *       {@link io.sanport.hostdriver.Request#ioComplete}.</li>
 *   <li>Core: SMART counters, then COMPLETING: {@link io.sanport.hostdriver.RemoteQueue#sendResponse}.</li>
 *   <li>Remote Transport: the {@code TcpCommand} has {@link io.sanport.hostdriver.Request#fillCompletion} write the
 *       CQE into its CapsuleResp PDU and joins the connection's {@code SendQueue}; one writev, prepared at the end of
 *       the loop round, gathers every PDU queued in it; its completion calls
 *       {@link io.sanport.hostdriver.QueuePair#release}: the buffer goes back to the pool and wakes the next waiter.</li>
 * </ol>
 *
 * <h2>The same write over NVMe/RDMA</h2>
 * <ol>
 *   <li>Connection Manager: the RDMA CM conductor picks the reactor ({@code nextReactor}) and, for the first queue of that reactor on
 *       the device, makes its CQ, SRQ and registers its pool once with the protection domain through
 *       {@link io.sanport.hostdriver.MemoryRegistry#registerPool} (the transport lends the {@code ibv_reg_mr}
 *       call); at ESTABLISHED the QP gets its queue pair; Connect is admitted and sized as on TCP.</li>
 *   <li>Remote Transport: the reactor polls its CQ at the end of every loop round while busy (the ring's poll
 *       on the completion channel wakes it when it slept); a RECV work completion holds the
 *       capsule in a shared receive buffer; {@code RdmaQueue} acquires a slot, binds it to the slot's
 *       {@code RdmaCommand} (nvmet's {@code nvmet_rdma_rsp}: the receive buffer, SGL1 as mapped, its work requests
 *       and response buffer, all made when the queue was), copies the SQE, calls {@code start}.</li>
 *   <li>Core: as on TCP, up to {@code receiveData}.</li>
 *   <li>Remote Transport: the 4 KiB are in hand: they are copied from the receive buffer into the pool buffer,
 *       the receive buffer is reposted, and {@code dataReceived} is called from inside {@code receiveData}; the
 *       core, still on the stack, queues the request on the reactor's run queue and runs it when its call returns
 *       (a keyed write would be an RDMA READ into the pool buffer with the registry's lkey instead, posted by the
 *       queue's {@code RdmaSendQueue} when a send-queue credit and a READ credit are free, else parked in its FIFO
 *       until they are; its work completion would call {@code dataReceived}).</li>
 *   <li>Local Transport and I/O processor: as on TCP.</li>
 *   <li>Remote Transport: {@code fillCompletion} writes the CQE into the command's registered response buffer;
 *       {@code RdmaSendQueue} chains the SEND that carries it (for a read, behind the unsignaled RDMA WRITE of the
 *       data; SEND_WITH_INVALIDATE when the host's descriptor asked) with the loop round's other work requests
 *       into one {@code ibv_post_send} at the round's end, or parks it until send-queue credits come back; the
 *       SEND's work completion calls {@code release}.</li>
 * </ol>
 * Every step of one request runs on its queue's reactor thread.
 *
 * <h2>Faults</h2>
 * Every entry into the core ({@code start}, {@code dataReceived}, {@code ioComplete}, {@code release}, the run
 * queue's tasks) catches what escapes it and ends that one queue through {@link io.sanport.hostdriver.RemoteQueue#disconnect}:
 * a reactor never dies of one host's input. Values from the wire are checked unsigned and overflow-safe
 * ({@code len > size - off}); a failed flush makes its namespace refuse writes until it is re-enabled.
 */
package io.sanport.hostdriver;
