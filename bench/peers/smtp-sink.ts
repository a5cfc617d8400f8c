/**
 * The notifications benchmark's SMTP sink: an `smtp-server` on PORT that reads each message to
 * the end and counts it, answering the parent over IPC with {count, firstAt, lastAt} (epoch ms)
 * on "stats" and starting over on "reset". No parsing, so the sink costs little beside the senders.
 */
import { SMTPServer } from 'smtp-server';

let count = 0;
let firstAt = 0;
let lastAt = 0;
const now = () => performance.timeOrigin + performance.now();

const server = new SMTPServer({
  secure: false,
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => {
      lastAt = now();
      if (count++ === 0) firstAt = lastAt;
      callback();
    });
  },
});
server.on('error', () => {});
server.listen(Number(process.env['PORT']), '127.0.0.1', () => process.send?.({ event: 'ready' }));
process.on('message', (message: string) => {
  if (message === 'reset') count = firstAt = lastAt = 0;
  process.send?.({ event: 'stats', count, firstAt, lastAt });
});
