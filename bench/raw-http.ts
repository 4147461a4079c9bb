import { connect, type Socket } from 'node:net';

/**
 * A lean HTTP/1.1 keep-alive client for load generation: requests written as prepared bytes on raw
 * sockets, answers read with a minimal parser (status line, Content-Length or chunked end). On a
 * 2-core machine the load generator shares the cores with the service, and node:http's client cost
 * 0.4–0.9 ms of CPU per call there, a large part of what the service had left; this one costs a
 * fraction of that, so the measurement disturbs what it measures less.
 */

interface Pending {
  head: Buffer;
  body: Buffer;
  resolve(status: number): void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('\r\n0\r\n\r\n');

class Connection {
  readonly socket: Socket;
  busy = false;
  private buffered: Buffer[] = [];
  private size = 0;
  private status = 0;
  /** Body bytes still expected; -1 while reading headers, -2 for a chunked body. */
  private remaining = -1;
  private done: ((status: number) => void) | undefined;

  /** Resolves when the TCP connection is up (or failed). */
  readonly connected: Promise<void>;

  constructor(host: string, port: number, onIdle: (c: Connection) => void, onClose: (c: Connection) => void) {
    this.socket = connect({ host, port, noDelay: true });
    this.connected = new Promise((resolve) => {
      this.socket.once('connect', resolve);
      this.socket.once('close', resolve);
    });
    this.socket.on('data', (chunk: Buffer) => {
      if (this.read(chunk)) {
        const done = this.done!;
        this.done = undefined;
        this.busy = false;
        done(this.status);
        onIdle(this);
      }
    });
    const fail = () => {
      if (this.done) {
        const done = this.done;
        this.done = undefined;
        done(0);
      }
      onClose(this);
    };
    this.socket.on('error', fail);
    this.socket.on('close', fail);
  }

  send(p: Pending): void {
    this.busy = true;
    this.done = p.resolve;
    this.buffered = [];
    this.size = 0;
    this.remaining = -1;
    this.socket.cork();
    this.socket.write(p.head);
    this.socket.write(p.body);
    this.socket.uncork();
  }

  /** Feed answer bytes; true when the answer is complete. */
  private read(chunk: Buffer): boolean {
    if (this.remaining >= 0) {
      this.remaining -= chunk.length;
      return this.remaining <= 0;
    }
    this.buffered.push(chunk);
    this.size += chunk.length;
    const all = this.buffered.length === 1 ? chunk : Buffer.concat(this.buffered, this.size);
    this.buffered = [all];
    if (this.remaining === -2)
      return all.indexOf(CHUNKED_END, Math.max(0, all.length - chunk.length - 8)) !== -1;
    const end = all.indexOf(HEADER_END);
    if (end === -1) return false;
    const head = all.toString('latin1', 0, end);
    this.status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const bodyBytes = all.length - end - 4;
    if (length) {
      this.remaining = Number(length[1]) - bodyBytes;
      return this.remaining <= 0;
    }
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      this.remaining = -2;
      return all.indexOf(CHUNKED_END, end) !== -1;
    }
    this.remaining = 0; // no body (204, 304)
    return true;
  }
}

export class RawHttpPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Pending[] = [];

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly maxConnections: number,
  ) {}

  /** Send one request (`head`: request line and headers with the blank line; `body`); resolves with the status (0: connection failed). */
  request(head: Buffer, body: Buffer): Promise<number> {
    return new Promise((resolve) => {
      const p: Pending = { head, body, resolve };
      // Oldest idle connection first: calls rotate over every open connection, so they spread over the
      // cluster workers the connections were handed to. Reusing the newest (LIFO) pinned most calls to
      // one or two connections, hence one worker, whenever answers came back faster than calls arrived.
      const c = this.idle.shift();
      if (c) c.send(p);
      else if (this.all.size < this.maxConnections) this.open().send(p);
      else this.queue.push(p);
    });
  }

  /**
   * Open connections until the pool holds `count` (at most its maximum), all idle, and wait until they
   * are connected: a load generator sets up its connections before the clock starts, so the first
   * measured calls do not pay for TCP setup and the cluster primary handing each socket to a worker.
   */
  async warm(count: number): Promise<void> {
    const opened: Connection[] = [];
    while (this.all.size < Math.min(count, this.maxConnections)) opened.push(this.open());
    await Promise.all(opened.map((c) => c.connected));
    for (const c of opened) if (this.all.has(c) && !c.busy) this.idle.push(c);
  }

  close(): void {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.length = 0;
  }

  private open(): Connection {
    const c = new Connection(
      this.host,
      this.port,
      (conn) => {
        const next = this.queue.shift();
        if (next) conn.send(next);
        else this.idle.push(conn);
      },
      (conn) => {
        if (!this.all.delete(conn)) return;
        const i = this.idle.indexOf(conn);
        if (i >= 0) this.idle.splice(i, 1);
        // Requests waiting for a connection get a new one.
        const next = this.queue.shift();
        if (next) this.open().send(next);
      },
    );
    this.all.add(c);
    return c;
  }
}

/** The request line and headers of a JSON POST, ready to write before the body. */
export function postHead(host: string, path: string, bodyBytes: number, authorization: string): Buffer {
  return Buffer.from(
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAuthorization: ${authorization}\r\nContent-Length: ${bodyBytes}\r\nConnection: keep-alive\r\n\r\n`,
    'latin1',
  );
}
