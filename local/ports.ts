import * as fs from 'node:fs';
import * as net from 'node:net';

/** The lowest port below which ports are picked: above the well-known and registered ones cuecast uses. */
const LOWEST = 10_000;

/**
 * The first of the ports the OS gives outgoing connections (Linux: ip_local_port_range; 32768
 * elsewhere or when unreadable). A listening port picked in that range can be taken, between the
 * check and the listen, by any client socket of the machine.
 */
export function ephemeralPortStart(): number {
  try {
    const [low] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && low > LOWEST + 1000) return low;
  } catch {
    // not Linux, or not readable
  }
  return 32_768;
}

/**
 * Finds `count` consecutive free loopback ports (the runtime uses eleven: P to P+10), for the test
 * suites and the bench, which boot runtimes side by side. They are picked below the ephemeral
 * range, so the machine's own outgoing connections (hundreds in a load test) cannot take one.
 */
export async function freeBasePort(count = 11): Promise<number> {
  const span = ephemeralPortStart() - count - LOWEST;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = LOWEST + Math.floor(Math.random() * span);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range on 127.0.0.1');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
