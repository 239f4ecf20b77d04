// BullMQ peer of switchboard's five stages (issue 7: bench/peers).
//
// Five BullMQ queues, ingest -> classify -> route -> sla -> notify, one
// worker process per stage (as switchboard runs one process per service).
// Each job runs its stage's durable effect in Redis (the same Lua scripts as
// the Celery peer, bench/peers/lua/) and then adds a job to the next queue;
// the job completes (and is removed) only after that add, so a crash between
// the two re-runs the job (BullMQ's lock and stalled-job check): at least
// once. Effects are idempotent by event id, so a conversation is assigned
// once and each event gets one feed entry. Jobs live in the runner's private
// redis-server (AOF everysec). What is and is not equivalent to switchboard:
// see bench/peers/celery/pipeline.py (same scripts, same simplifications).
//
//   node pipeline.mjs worker STAGE          (PEERS_REDIS_URL, PEERS_BULLMQ_CONCURRENCY)
//   node pipeline.mjs produce --count N [--phase P] [--rate R]
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const STAGES = ['ingest', 'classify', 'route', 'sla', 'notify'];
const TTL_S = 86400;
const CAPACITY = 100;      // per agent, as sbctl bench
const MSGS_PER_CONV = 4;   // as sbctl bench
const BATCH = 100;         // closed-loop adds per addBulk (sbctl publishes 100 events per request)
const TEXT = 'Hello, my flight to Lisbon was cancelled and I need to rebook for tomorrow.';
const URL_ = process.env.PEERS_REDIS_URL || 'redis://127.0.0.1:6379/0';
const JOB_OPTS = { removeOnComplete: true, removeOnFail: 1000 };
const TENANTS = JSON.parse(readFileSync(join(HERE, '..', '..', '..', 'corpus', 'tenants.json'))).tenants;
const SLA_MS = Object.fromEntries(TENANTS.map((t) => [t.id, t.sla.first_response_ms]));

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const conn = () => new IORedis(URL_, { maxRetriesPerRequest: null });
const key = (ev, what, tail) => `pe:{t:${ev.tenant}}:${what}:${tail}`;

function effectsClient() {
  const r = conn();
  for (const s of STAGES)
    r.defineCommand(`stage_${s}`, { lua: readFileSync(join(HERE, '..', 'lua', `${s}.lua`), 'utf8') });
  return r;
}

// Each stage: its effect, then the event for the next stage (or null at the end).
const stage = {
  async ingest(r, ev) {
    await r.stage_ingest(2, key(ev, 'seen', ev.id), key(ev, 'ev', ev.id), JSON.stringify(ev), TTL_S);
    return ev;
  },
  async classify(r, ev) {
    const low = ev.text.toLowerCase();
    ev.intent = low.includes('rebook') ? 'rebooking' : 'other';
    await r.stage_classify(1, key(ev, 'cls', ev.id), 'en', ev.intent, low.includes('cancel') ? 2 : 3);
    return ev;
  },
  async route(r, ev) {
    const d = await r.stage_route(3, key(ev, 'conv', ev.customer), `pe:{t:${ev.tenant}}:agents`,
      key(ev, 'rt', ev.id), CAPACITY);
    if (d === null) throw new Error(`no agent with room for ${ev.id}`);
    [ev.agent, ev.decided] = d.split(' ');
    return ev;
  },
  async sla(r, ev) {
    const due = Math.floor(ev.pub / 1000) + (SLA_MS[ev.tenant] ?? 60000);
    await r.stage_sla(1, `pe:{t:${ev.tenant}}:sla`, due, ev.customer);
    return ev;
  },
  async notify(r, ev) {
    await r.stage_notify(2, key(ev, 'sent', ev.id), `pe:{t:${ev.tenant}}:feed`, ev.id, ev.pub, ev.decided,
      ev.agent, TTL_S);
    return null;
  },
};

async function worker(name) {
  if (!stage[name]) throw new Error(`unknown stage ${name}`);
  const r = effectsClient();
  const nextName = STAGES[STAGES.indexOf(name) + 1];
  const next = nextName ? new Queue(nextName, { connection: conn() }) : null;
  const w = new Worker(name, async (job) => {
    const ev = await stage[name](r, job.data);
    if (ev && next) await next.add(nextName, ev, JOB_OPTS);
  }, { connection: conn(), concurrency: Number(process.env.PEERS_BULLMQ_CONCURRENCY || 32) });
  w.on('failed', (job, err) => console.error(`${name}: job ${job?.id} failed: ${err.message}`));
  await w.waitUntilReady();
  console.log(`ready ${name}`);
  const stop = async () => { await w.close(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function message(phase, i, pub) {
  return { id: `${phase}-${i}`, tenant: TENANTS[Math.floor(i / MSGS_PER_CONV) % TENANTS.length].id,
    customer: `${phase}-c${Math.floor(i / MSGS_PER_CONV)}`, channel: 'whatsapp', text: TEXT, pub };
}

async function produce(args) {
  const opt = { phase: 't', count: 0, rate: 0 };
  for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1];
  const n = Number(opt.count), rate = Number(opt.rate);
  const q = new Queue('ingest', { connection: conn() });
  await q.waitUntilReady();
  const t0 = nowUs(), lags = [], pending = [];
  if (rate > 0) {
    // Open loop: each event is stamped with its scheduled time and added then,
    // whatever happened to the earlier ones (no coordinated omission).
    let sent = 0;
    while (sent < n) {
      const due = Math.min(n, Math.floor((nowUs() - t0) / 1e6 * rate) + 1);
      for (; sent < due; sent++) {
        const at = t0 + Math.round(sent / rate * 1e6);
        lags.push(nowUs() - at);
        pending.push(q.add('ingest', message(opt.phase, sent, at), JOB_OPTS));
      }
      await new Promise((res) => setTimeout(res, 1));
    }
    await Promise.all(pending);
  } else {
    for (let i = 0; i < n; i += BATCH) {
      const jobs = [];
      for (let j = i; j < Math.min(n, i + BATCH); j++)
        jobs.push({ name: 'ingest', data: message(opt.phase, j, nowUs()), opts: JOB_OPTS });
      await q.addBulk(jobs);
    }
  }
  const t1 = nowUs();
  lags.sort((a, b) => a - b);
  console.log(JSON.stringify({ t0_us: t0, enqueued_us: t1, count: n,
    send_lag_p99_ms: lags.length ? lags[Math.floor(0.99 * (lags.length - 1))] / 1000 : 0 }));
  await q.close();
  process.exit(0);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'worker') await worker(rest[0]);
else if (mode === 'produce') await produce(rest);
else { console.error('usage: pipeline.mjs worker STAGE | produce --count N [--phase P] [--rate R]'); process.exit(2); }
