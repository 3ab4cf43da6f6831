import WebSocket from 'ws';

/**
 * Viewers as the benches drive them: plain `ws` clients that record each frame's `type` and
 * arrival time, opened in batches, awaited by polling, and closed together.
 */
export interface Socket {
  readonly ws: WebSocket;
  /** Arrival times of the frames, by what they were. */
  readonly frames: Array<{ kind: string; at: number }>;
}

/** Opens `count` sockets, 250 at a time; each counts the frames that concern the round. */
export async function open(url: string, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, count - i) }, async () => {
        const ws = new WebSocket(url);
        const socket: Socket = { ws, frames: [] };
        ws.on('message', (data) => {
          const frame = JSON.parse(data.toString()) as { type?: string; status?: string };
          socket.frames.push({ kind: String(frame.type), at: Date.now() });
        });
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        return socket;
      }),
    );
    sockets.push(...batch);
  }
  return sockets;
}

export async function until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function close(sockets: Socket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.ws.readyState === WebSocket.CLOSED) return resolve();
          s.ws.once('close', () => resolve());
          s.ws.close();
        }),
    ),
  );
}

/** Every socket answers (alternating choices); resolves with how many were accepted. */
export async function answerAll(sockets: Socket[], quizId: string): Promise<number> {
  sockets.forEach((s, i) => {
    s.ws.send(JSON.stringify({ action: 'answer', quizId, choiceIndex: i % 2 }));
  });
  const replied = () =>
    sockets.filter((s) => s.frames.some((f) => f.kind === 'answer' || f.kind === 'error'));
  await until(() => replied().length === sockets.length, 120_000, 'the answers');
  const accepted = sockets.filter((s) => s.frames.some((f) => f.kind === 'answer')).length;
  if (accepted !== sockets.length) throw new Error(`${sockets.length - accepted} answers were refused`);
  return accepted;
}
