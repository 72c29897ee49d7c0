/** @torgo/api: the gateway's HTTP API v1 contract (schemas + types), shared by gateway, CLI, console and client. */
export * from './schemas.js';
