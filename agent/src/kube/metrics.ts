// The control plane's Kubernetes metrics, read from the controllers when Prometheus scrapes
// (nothing is counted twice): which replica leads, what the admission webhook answered.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { KubernetesControllers } from './control-plane-controllers.js';

export function registerKubernetesMetrics(registry: Registry, k: KubernetesControllers): void {
  const registers = [registry];
  new Gauge({
    name: 'altrace_kubernetes_leader',
    help: '1 while this control-plane replica runs the Kubernetes controllers: it holds the leader Lease (always 1 without leader election)',
    registers,
    collect() {
      this.set(!k.leader || k.leader.leading ? 1 : 0);
    },
  });
  new Counter({
    name: 'altrace_kubernetes_admission_reviews_total',
    help: 'Admission reviews the webhook answered, by outcome: mutated, untouched, refused (not a review), undecided (503: the failurePolicy decided)',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset();
      const c = k.webhook?.server.counts;
      if (!c) return;
      this.inc({ outcome: 'mutated' }, c.mutated);
      this.inc({ outcome: 'untouched' }, c.reviews - c.mutated - c.refused - c.undecided);
      this.inc({ outcome: 'refused' }, c.refused);
      this.inc({ outcome: 'undecided' }, c.undecided);
    },
  });
}
