// One Lambda "container": loads a function's bundled asset once and serves invocations.
// Plain JavaScript on purpose: it runs the deployed bundle, with no TypeScript loader in between.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { entry, handlerName, functionName, memorySize, timeoutMs, functionArn } = workerData;

let handler;
try {
  const mod = await import(pathToFileURL(entry).href);
  handler = mod[handlerName];
  if (typeof handler !== 'function') throw new Error(`${entry} does not export "${handlerName}"`);
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  parentPort.postMessage({
    type: 'init-error',
    error: { name: error.name, message: error.message, stack: error.stack },
  });
}

parentPort.on('message', async ({ id, event }) => {
  const started = Date.now();
  const context = {
    awsRequestId: randomUUID(),
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memorySize),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
  };
  try {
    const result = await handler(event, context);
    parentPort.postMessage({ type: 'result', id, ok: true, result });
  } catch (error) {
    parentPort.postMessage({
      type: 'result',
      id,
      ok: false,
      error: { name: error?.name ?? 'Error', message: error?.message ?? String(error), stack: error?.stack },
    });
  }
});
