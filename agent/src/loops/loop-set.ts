// The data plane's other loops (listen.loops > 1), seen from the main thread: it starts them on
// the shared proxy port, serves their decisions, lends them credentials and scan workers,
// forwards kill switches and waits for their cuts, gathers their metrics, and
// starts a new loop when one dies.
import { MessageChannel, Worker } from 'node:worker_threads';
import { answerEvidence, evidenceFailure, type ContentPolicy, type CredentialSource, type DeciderHost, type EvidenceSubmissionDeps, type KillSwitches, type Logger, type ScanPool, type StageDescription } from '../../../proxy/src/index.js';
import type { Config } from '../config/config.js';
import type { ClassifyResult, DetectResult } from '../../../proxy/src/scan/messages.js';
import type { FromLoopThread, LoopData, MetricsJson, ToLoopThread } from './messages.js';

export interface LoopSetOptions {
  config: Config;
  /** The proxy port the main loop opened with reusePort. */
  port: number;
  stages: StageDescription[];
  content: () => ContentPolicy;
  decider: DeciderHost;
  kills: KillSwitches;
  credentials: CredentialSource;
  scanPool: ScanPool;
  /** SDK evidence submissions that reached a loop are recorded here, as the main loop records its own. */
  evidence: EvidenceSubmissionDeps;
  now: () => number;
  logger: Logger;
  /** Where the loops' log lines go when the agent logs somewhere other than stdout; absent: they write to stdout themselves. */
  log?: (line: string) => void;
}

/** How long a loop may take to open the port before the start fails. */
const START_TIMEOUT_MS = 60_000;
/** A loop that dies is started again after this long (doubling while it keeps dying, up to a minute). */
const RESTART_MS = 250;

class Loop {
  worker!: Worker;
  restarts = 0;
  listening = false;
  exited = false;
  /** A start again after it died, waiting out its backoff. */
  restart: NodeJS.Timeout | null = null;
  /** Asks this loop has not answered yet: a loop that dies answers them all (its connections are gone). */
  readonly pending = new Set<number>();
  constructor(readonly index: number) {}
}

export class LoopSet {
  /** A loop died and is being started again (altrace_data_plane_loop_restarts_total). */
  onRestart: (() => void) | null = null;
  readonly #o: LoopSetOptions;
  readonly #loops: Loop[] = [];
  readonly #answers = new Map<number, (m: FromLoopThread) => void>();
  #nextId = 1;
  #closing = false;
  #restarted = 0;

  constructor(options: LoopSetOptions) {
    this.#o = options;
    options.kills.onEngage((kill) => this.#broadcast({ t: 'kill', kill }));
    options.kills.onRelease((scope, target) => this.#broadcast({ t: 'release', scope, target }));
    options.kills.onConfirm(() => this.barrier());
  }

  /** Starts `count` loops besides the main one; resolves once each listens on the port. */
  async start(count: number): Promise<void> {
    for (let i = 1; i <= count; i++) this.#loops.push(new Loop(i));
    await Promise.all(this.#loops.map((loop) => this.#run(loop)));
  }

  get size(): number {
    return this.#loops.length;
  }

  /** Loops listening now (one being started again after it died is not). */
  get listening(): number {
    return this.#loops.filter((l) => l.listening).length;
  }

  /** How many times loops were started again after dying, in all. */
  get restarts(): number {
    return this.#restarted;
  }

  /** The thread of loop `index` (1-based): what a test stops to see the loop come back. */
  thread(index: number): Worker | undefined {
    return this.#loops[index - 1]?.worker;
  }

  /** The content policy changed: the loops' content stages read the new one. */
  content(content: ContentPolicy): void {
    this.#broadcast({ t: 'content', content });
  }

  /** Resolves once every loop has handled every message sent to it before: a kill's cuts are done. */
  async barrier(): Promise<void> {
    await Promise.all(this.#loops.map((loop) => this.#ask(loop, (id) => ({ t: 'barrier', id }))));
  }

  /** Every loop's metrics, for the scrape to aggregate with the main loop's. */
  async metrics(): Promise<MetricsJson[]> {
    const answers = await Promise.all(this.#loops.map((loop) => this.#ask(loop, (id) => ({ t: 'metrics', id }))));
    // A loop that died meanwhile answers nothing: its counts went with it.
    return answers.flatMap((m) => (m.t === 'metrics' ? [m.metrics] : []));
  }

  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    for (const loop of this.#loops) if (loop.restart) clearTimeout(loop.restart);
    await Promise.all(
      this.#loops.map(async (loop) => {
        if (!loop.worker || loop.exited) return;
        const stopped = new Promise<void>((resolve) => {
          loop.worker.once('exit', () => resolve());
          loop.worker.on('message', (m: FromLoopThread) => m.t === 'stopped' && void loop.worker.terminate());
        });
        loop.worker.postMessage({ t: 'stop', graceMs } satisfies ToLoopThread);
        await Promise.race([stopped, new Promise((r) => setTimeout(r, graceMs + 2_000))]);
        await loop.worker.terminate();
      }),
    );
  }

  #run(loop: Loop): Promise<void> {
    loop.restart = null;
    if (this.#closing) return Promise.resolve();
    loop.exited = false;
    const { port1, port2 } = new MessageChannel();
    this.#o.decider.serve(port2);
    const data: LoopData = {
      index: loop.index,
      config: this.#o.config,
      port: this.#o.port,
      decider: port1,
      stages: this.#o.stages,
      content: this.#o.content(),
      kills: this.#o.kills.list(),
      logToMain: this.#o.log !== undefined,
    };
    const worker = new Worker(new URL('./loop-thread.js', import.meta.url), { workerData: data, transferList: [port1], name: `altrace-loop-${loop.index}` });
    loop.worker = worker;
    worker.on('message', (m: FromLoopThread) => this.#receive(loop, m));
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`data-plane loop ${loop.index} did not open port ${this.#o.port} within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      worker.on('message', (m: FromLoopThread) => {
        if (m.t !== 'listening') return;
        clearTimeout(timer);
        loop.restarts = 0;
        loop.listening = true;
        resolve();
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    worker.once('error', (err) => this.#o.logger.error({ loop: loop.index, err: err.message }, 'a data-plane loop failed; its connections are gone'));
    worker.once('exit', (code) => {
      loop.listening = false;
      loop.exited = true;
      // The decider's end closes with the thread: it settles what the loop left reserved.
      port2.close();
      for (const id of loop.pending) this.#answers.get(id)?.({ t: 'barrier', id });
      if (this.#closing) return;
      const wait = Math.min(60_000, RESTART_MS * 2 ** loop.restarts++);
      this.#o.logger.error({ loop: loop.index, code, restartInMs: wait }, 'a data-plane loop exited; starting a new one');
      this.#restarted++;
      this.onRestart?.();
      loop.restart = setTimeout(() => void this.#run(loop).catch((err: Error) => this.#o.logger.error({ loop: loop.index, err: err.message }, 'a data-plane loop could not be started again')), wait);
      loop.restart.unref();
    });
    return listening;
  }

  #receive(loop: Loop, m: FromLoopThread): void {
    const worker = loop.worker;
    const reply = (r: ToLoopThread): void => worker.postMessage(r);
    switch (m.t) {
      case 'log':
        return this.#o.log?.(m.line);
      case 'credential': {
        const held = this.#o.credentials.get(m.upstream, m.team ?? undefined);
        const answer = (credential: Awaited<typeof held>): void => reply({ t: 'credential', id: m.id, credential, problem: this.#o.credentials.problem?.(m.upstream) ?? null });
        if (held instanceof Promise) void held.then(answer, () => answer(null));
        else answer(held);
        return;
      }
      case 'evidence':
        void answerEvidence(m.request, this.#o.evidence, this.#o.now).then(
          (answer) => reply({ t: 'evidence', id: m.id, answer }),
          () => reply({ t: 'evidence', id: m.id, answer: evidenceFailure() }),
        );
        return;
      case 'scan': {
        const pool = this.#o.scanPool;
        const scanned = m.task.kind === 'detect' ? pool.detect(m.task) : pool.classify(m.task);
        void (scanned as Promise<DetectResult | ClassifyResult>).then(
          (result) => reply({ t: 'scanned', id: m.id, result }),
          (err: Error) => reply({ t: 'scanned', id: m.id, error: err.message }),
        );
        return;
      }
      case 'barrier':
      case 'metrics': {
        const resolve = this.#answers.get(m.id);
        this.#answers.delete(m.id);
        loop.pending.delete(m.id);
        return resolve?.(m);
      }
      case 'listening':
      case 'stopped':
        return;
    }
  }

  #ask(loop: Loop, message: (id: number) => ToLoopThread): Promise<FromLoopThread> {
    const id = this.#nextId++;
    // A loop that is not listening (dead, or starting again) holds no connection: nothing to wait for.
    if (!loop.listening) return Promise.resolve({ t: 'barrier', id });
    return new Promise((resolve) => {
      this.#answers.set(id, (m) => {
        this.#answers.delete(id);
        loop.pending.delete(id);
        resolve(m);
      });
      loop.pending.add(id);
      loop.worker.postMessage(message(id));
    });
  }

  #broadcast(m: ToLoopThread): void {
    for (const loop of this.#loops) loop.worker?.postMessage(m);
  }
}
