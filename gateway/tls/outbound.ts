/**
 * The key-exchange group of every TLS connection this process opens (gRPC to Fabric peers, the
 * Fabric CA…), observed on the real connections: Node publishes each client socket on the
 * `net.client.socket` diagnostics channel, and a TLS socket reports its group once connected
 * (groups.ts). The latest handshake per endpoint is kept (at most 64 endpoints) and counted.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Counter, type Registry } from 'prom-client';
import { negotiatedGroup } from './groups.js';
import type { OutboundHandshake } from './listener.js';

const CHANNEL = 'net.client.socket';
const MAX_ENDPOINTS = 64;

export class OutboundObserver {
  private readonly latest = new Map<string, OutboundHandshake>();
  private readonly counter: Counter<'endpoint' | 'group'>;
  private readonly onSocket = (message: unknown): void => {
    const socket = (message as { socket?: Socket }).socket as (Socket & Partial<TLSSocket>) | undefined;
    if (socket?.encrypted !== true) return;
    const tlsSocket = socket as TLSSocket;
    tlsSocket.once('secureConnect', () => this.record(tlsSocket));
  };

  constructor(registry: Registry) {
    this.counter = new Counter({
      name: 'torgo_tls_outbound_handshakes_total',
      help: "TLS handshakes of the gateway's own connections (Fabric peers, CA), by endpoint and key-exchange group",
      labelNames: ['endpoint', 'group'] as const,
      registers: [registry],
    });
  }

  start(): this {
    subscribe(CHANNEL, this.onSocket);
    return this;
  }

  stop(): void {
    unsubscribe(CHANNEL, this.onSocket);
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
    this.counter.inc({ endpoint, group });
  }

  list(): OutboundHandshake[] {
    return [...this.latest.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }
}
