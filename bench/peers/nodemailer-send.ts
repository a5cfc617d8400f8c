/**
 * The raw side of the email benchmark: nodemailer's pooled SMTP transport sending COUNT messages
 * to SMTP_URL with at most IN_FLIGHT under way (as the notifications worker's concurrency
 * allows), POOL_SIZE connections, the same message the plugin sends. Exits when all are sent.
 */
import nodemailer from 'nodemailer';

const count = Number(process.env['COUNT']);
const inFlight = Number(process.env['IN_FLIGHT']);
const url = new URL(process.env['SMTP_URL']!);
const transport = nodemailer.createTransport({
  host: url.hostname,
  port: Number(url.port),
  secure: false,
  pool: true,
  maxConnections: Number(process.env['POOL_SIZE']),
  maxMessages: Infinity,
});
let next = 0;
const worker = async () => {
  while (next < count) {
    const i = next++;
    await transport.sendMail({
      from: 'Plugboard <no-reply@localhost>',
      to: `u${i}@bench.test`,
      subject: 'Bench news',
      text: 'Bench news: read more',
      headers: { 'X-Plugboard-Notification': String(i) },
    });
  }
};
await Promise.all(Array.from({ length: inFlight }, worker));
transport.close();
