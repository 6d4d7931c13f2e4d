// A real graphql-ws client (what a browser app would use) for the end-to-end tests.
//
//   node subscribe.mjs --url ws://127.0.0.1:8000/graphql [--token st_...] [--account ID]
//                      [--origin http://evil.test] [--query 'subscription { ... }']
//
// Each option may come from the environment instead (SUBSCRIBE_URL, SUBSCRIBE_TOKEN,
// SUBSCRIBE_ACCOUNT, SUBSCRIBE_ORIGIN, SUBSCRIBE_QUERY). Prints one JSON line per event:
//   {"event":"opened"}                          the WebSocket handshake succeeded
//   {"event":"connected"}                       connection_ack received
//   {"event":"next","data":{...}}               one subscription result
//   {"event":"error","message":"...","status":403?,"errors":[...]?}
//   {"event":"complete"}                        the server completed the subscription
//   {"event":"closed","code":4403,"reason":"Forbidden"}
// each with "t" (milliseconds since the epoch), and exits once the socket is closed
// (status 0 after a clean close, 1 otherwise).
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const DEFAULT_QUERY = `subscription {
  engagementNotifications { id type occurredAt who emailId emailSubject linkUrl message }
}`;

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.SUBSCRIBE_URL },
    token: { type: 'string', default: process.env.SUBSCRIBE_TOKEN },
    account: { type: 'string', default: process.env.SUBSCRIBE_ACCOUNT },
    origin: { type: 'string', default: process.env.SUBSCRIBE_ORIGIN },
    query: { type: 'string', default: process.env.SUBSCRIBE_QUERY || DEFAULT_QUERY },
  },
});
if (!args.url) {
  process.stderr.write('usage: node subscribe.mjs --url ws://host:port/graphql [--token ...]\n');
  process.exit(2);
}

function emit(line) {
  // Pipes are written synchronously on Linux: the line is out before the next event.
  process.stdout.write(`${JSON.stringify({ ...line, t: Date.now() })}\n`);
}

function exit(status) {
  process.stdout.write('', () => process.exit(status));
}

// A browser sends its page's Origin with the handshake; `ws` sends none unless told.
class BrowserLikeWebSocket extends WebSocket {
  constructor(address, protocols) {
    super(address, protocols, args.origin ? { origin: args.origin } : {});
  }
}

const connectionParams = {};
if (args.token) connectionParams.authorization = `Bearer ${args.token}`;
if (args.account) connectionParams.account = args.account;

const client = createClient({
  url: args.url,
  webSocketImpl: BrowserLikeWebSocket,
  connectionParams,
  lazy: false,
  retryAttempts: 0,
  on: {
    opened: () => emit({ event: 'opened' }),
    connected: () => emit({ event: 'connected' }),
    error: (error) => {
      const message = String(error?.message ?? error?.error?.message ?? error);
      const status = /Unexpected server response: (\d+)/.exec(message);
      emit({ event: 'error', message, ...(status ? { status: Number(status[1]) } : {}) });
    },
    closed: (event) => {
      emit({ event: 'closed', code: event?.code ?? null, reason: event?.reason ?? '' });
      client.dispose();
      exit(event?.code === 1000 ? 0 : 1);
    },
  },
});

client.subscribe(
  { query: args.query },
  {
    next: (result) => emit({ event: 'next', ...result }),
    error: (error) => {
      // A close reaches the sink too; `closed` above reports it with its code.
      if (Array.isArray(error)) emit({ event: 'error', errors: error });
      else if (error instanceof Error) emit({ event: 'error', message: error.message });
    },
    complete: () => emit({ event: 'complete' }),
  },
);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    client.dispose();
    exit(0);
  });
}
