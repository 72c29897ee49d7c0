/**
 * The key-exchange group of every TLS connection this process opens (gRPC to Fabric peers, the
 * Fabric CA…), observed on the real connections through Node's diagnostics channels:
 * `net.client.socket` publishes sockets made by `tls.connect` (HTTPS clients such as the CA's), and
 * `http2.client.stream.created` the streams of HTTP/2 sessions, whose TLS socket gRPC made by
 * wrapping a TCP socket (which no channel publishes as TLS). A TLS socket reports its group once
 * connected (groups.ts). The latest handshake per endpoint is kept (at most 64) and counted.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Counter, type Registry } from 'prom-client';
import { negotiatedGroup } from './groups.js';
import type { OutboundHandshake } from './listener.js';

const SOCKETS = 'net.client.socket';
const HTTP2_STREAMS = 'http2.client.stream.created';
const MAX_ENDPOINTS = 64;

export class OutboundObserver {
  private readonly latest = new Map<string, OutboundHandshake>();
  /** Handshakes by `endpoint\u0000group`, counted from start() (before the metrics registry exists). */
  private readonly counts = new Map<string, number>();
  private readonly onSocket = (message: unknown): void => {
    const socket = (message as { socket?: Socket }).socket as (Socket & Partial<TLSSocket>) | undefined;
    if (socket?.encrypted !== true) return;
    const tlsSocket = socket as TLSSocket;
    tlsSocket.once('secureConnect', () => this.record(tlsSocket));
  };
  /** HTTP/2 sessions already recorded: one handshake each, however many streams. */
  private readonly sessions = new WeakSet<object>();
  private readonly onStream = (message: unknown): void => {
    const stream = (message as { stream?: import('node:http2').ClientHttp2Stream }).stream;
    const session = stream?.session;
    if (!stream || !session || this.sessions.has(session)) return;
    // The handshake is done once the first response arrives; the session's socket is a proxy that
    // forwards these reads to the TLS socket.
    stream.once('response', () => {
      if (this.sessions.has(session)) return;
      this.sessions.add(session);
      const socket = session.socket as TLSSocket | undefined;
      if (socket?.encrypted === true) this.record(socket);
    });
  };

  /** Exposes the counts as `torgo_tls_outbound_handshakes_total` in `registry`. */
  register(registry: Registry): this {
    const counts = this.counts;
    new Counter({
      name: 'torgo_tls_outbound_handshakes_total',
      help: "TLS handshakes of the gateway's own connections (Fabric peers, CA), by endpoint and key-exchange group",
      labelNames: ['endpoint', 'group'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [k, n] of counts) {
          const [endpoint = '', group = ''] = k.split('\u0000');
          this.inc({ endpoint, group }, n);
        }
      },
    });
    return this;
  }

  start(): this {
    subscribe(SOCKETS, this.onSocket);
    subscribe(HTTP2_STREAMS, this.onStream);
    return this;
  }

  stop(): void {
    unsubscribe(SOCKETS, this.onSocket);
    unsubscribe(HTTP2_STREAMS, this.onStream);
  }

  private record(socket: TLSSocket): void {
    const endpoint = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const group = negotiatedGroup(socket);
    const servername = (socket as { servername?: unknown }).servername;
    if (!this.latest.has(endpoint) && this.latest.size >= MAX_ENDPOINTS) {
      const oldest = this.latest.keys().next().value;
      if (oldest !== undefined) this.latest.delete(oldest);
    }
    this.latest.delete(endpoint);
    this.latest.set(endpoint, {
      endpoint,
      ...(typeof servername === 'string' && servername ? { servername } : {}),
      group,
      at: new Date().toISOString(),
    });
    const k = `${endpoint}\u0000${group}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  list(): OutboundHandshake[] {
    return [...this.latest.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }
}
