// What the main thread and a data-plane loop thread say to each other besides decisions (those
// travel on the decider's own port: proxy/src/decider/messages.ts). Structured-cloneable, both ways.
import type { MessagePort } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ContentPolicy, Credential, EvidenceAnswer, EvidenceRequest, KillSwitch, StageDescription } from '../../../proxy/src/index.js';
import type { ClassifyResult, ClassifyTask, DetectResult, DetectTask } from '../../../proxy/src/scan/messages.js';
import type { Config } from '../config/config.js';

export interface LoopData {
  /** 1 for the first loop after the main one. */
  index: number;
  config: Config;
  /** The proxy port the main loop opened (a configured 0 resolved): every loop shares it. */
  port: number;
  /** The decider's end is served by the main thread's DeciderHost. */
  decider: MessagePort;
  /** The declared chain, in order: the loop composes the same positions, its own stages at theirs. */
  stages: StageDescription[];
  content: ContentPolicy;
  /** Switches engaged when the loop starts: a stream it relays may be cut by one engaged later. */
  kills: KillSwitch[];
  /** The agent logs somewhere other than stdout (embedded, tests): the loop's lines go through the main thread. */
  logToMain: boolean;
}

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Main → loop. */
export type ToLoopThread =
  | { t: 'kill'; kill: KillSwitch }
  | { t: 'release'; scope: KillSwitch['scope']; target: string }
  /** Answered once every message before it was handled: a kill's cuts are done. */
  | { t: 'barrier'; id: number }
  | { t: 'metrics'; id: number }
  | { t: 'content'; content: ContentPolicy }
  | { t: 'credential'; id: number; credential: Credential | null; problem: string | null }
  | { t: 'scanned'; id: number; result?: DetectResult | ClassifyResult; error?: string }
  | { t: 'evidence'; id: number; answer: EvidenceAnswer }
  | { t: 'stop'; graceMs: number };

/** Loop → main. */
export type FromLoopThread =
  | { t: 'listening' }
  | { t: 'barrier'; id: number }
  | { t: 'metrics'; id: number; metrics: MetricsJson }
  | { t: 'log'; line: string }
  | { t: 'credential'; id: number; upstream: string; team: string | null }
  | { t: 'scan'; id: number; task: DetectTask | ClassifyTask }
  /** An SDK's evidence submission: recorded in the main thread's ledger, answered from there. */
  | { t: 'evidence'; id: number; request: EvidenceRequest }
  | { t: 'stopped' };
