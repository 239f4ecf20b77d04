// Offline checks of switchboard's deployment files (run by check.sh).
//
//   node validate.mjs k8s [--external-secret NAME]... FILE...
//       Every object of rendered manifests (kubectl kustomize output):
//       - the schema of its apiVersion/kind (kubernetes-models for the
//         Kubernetes API, @kubernetes-models/keda for KEDA's CRDs);
//       - no key the schema does not know (misspelled fields: the schemas
//         accept unknown keys, so each object is validated through proxies
//         that record which keys the validator looks up; a key it never
//         looks up, in an object it does not iterate as a map, is unknown);
//       - KEDA 2.12 trigger metadata keys (a map of strings for the schema);
//       - switchboard's own rules: SB_* variables are options the service
//         has, probes on the admin port, preStop + drain within the grace
//         period, resources, non-root, references that resolve; ZeroMQ
//         CURVE on (between the stages everywhere, at the edge on ingest
//         and notify) with every CURVE key file a file of a mounted Secret.
//   node validate.mjs dockerfile [--deps FILE] [--needed FILE] DOCKERFILE
//       What dockerfilelint does not check (see checkDockerfile).
//   node validate.mjs compose FILE
//       docker/compose.yaml: SB_* variables, healthchecks, dependencies.
//
// Exit status 1 when anything is wrong; each problem is one line on stdout.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");

// ---- switchboard facts, read from the sources -------------------------------

const SERVICES = ["ingest", "classify", "route", "sla-timer", "notify"];
const ADMIN_PORT = { ingest: 9101, classify: 9102, route: 9103, "sla-timer": 9104, notify: 9105 };
// Ports each service listens on by default (README "Interfaces").
const LISTEN_PORTS = {
  ingest: [8080, 5555, 9101],
  classify: [5560, 9102],
  route: [5561, 9103],
  "sla-timer": [5562, 9104],
  notify: [5563, 5556, 9105],
};
const DEFAULT_DRAIN_MS = 10000;

function optionsIn(files) {
  const names = new Set();
  for (const f of files) {
    const text = fs.readFileSync(f, "utf8");
    for (const m of text.matchAll(/\{"([a-z][a-z0-9-]*)",\s*SB_OPT_(?:STR|INT|BOOL)/g)) names.add(m[1]);
  }
  return names;
}

function cFiles(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".c")).map((f) => path.join(dir, f));
}

// SB_* environment variables each program reads: SB_ + the option name in
// capitals with '_' for '-' (common/sb_config.c).
// The edge CURVE options (SB_CURVE_EDGE_OPTIONS in sb_curve.h) are in the
// option tables of the two services with an outside-facing socket.
const EDGE_SERVICES = ["ingest", "notify"];
function envOptions() {
  const common = [path.join(ROOT, "common/sb_service.c"), path.join(ROOT, "common/sb_curve.c")];
  const stage = [path.join(ROOT, "common/sb_stage.c")];
  const edge = [path.join(ROOT, "common/sb_curve.h")];
  const out = {};
  for (const svc of SERVICES) {
    const files = [...common, ...(svc === "ingest" ? [] : stage), ...(EDGE_SERVICES.includes(svc) ? edge : []),
      ...cFiles(path.join(ROOT, "services", svc))];
    out[svc] = toEnv(optionsIn(files));
  }
  out.sbctl = toEnv(optionsIn(cFiles(path.join(ROOT, "services/sbctl"))));
  for (const [k, v] of Object.entries(out)) if (v.size < 3) throw new Error(`found too few options for ${k}: the option tables moved?`);
  return out;
}
function toEnv(names) {
  return new Set([...names].map((n) => "SB_" + n.toUpperCase().replace(/-/g, "_")));
}
// Read by the image's scripts, not by the binaries (docker/*.sh).
const IMAGE_ENV = new Set(["SB_SERVICE", "SB_HEALTHCHECK_TIMEOUT_S"]);
const LOADGEN_ENV = new Set(["SB_LOADGEN_CORPUS", "SB_LOADGEN_PASSES", "SB_LOADGEN_PAUSE_S"]);

// ---- reporting ---------------------------------------------------------------

const problems = [];
function problem(where, msg) {
  problems.push(`${where}: ${msg}`);
}

// ---- schemas -----------------------------------------------------------------

const MODULES = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "batch/v1": "kubernetes-models/batch/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
  "keda.sh/v1alpha1": "@kubernetes-models/keda/keda.sh/v1alpha1",
};

async function modelFor(apiVersion, kind) {
  const mod = MODULES[apiVersion];
  if (!mod) return null;
  const ns = await import(mod);
  return ns[kind] || null;
}

// Wraps value so that every key looked up on every (nested) object is
// recorded in a node of `nodes`; an object whose keys are enumerated (a map:
// labels, data, resources.limits...) is marked as such.
function track(value, where, nodes) {
  if (value === null || typeof value !== "object") return value;
  const node = { where, value, read: new Set(), map: false, array: Array.isArray(value) };
  nodes.push(node);
  const children = new Map();
  const note = (k) => {
    if (typeof k === "string") node.read.add(k);
  };
  return new Proxy(value, {
    get(t, k, r) {
      note(k);
      const v = Reflect.get(t, k, r);
      if (typeof k !== "string" || v === null || typeof v !== "object" || !Object.hasOwn(t, k)) return v;
      if (!children.has(k)) children.set(k, track(v, node.array ? `${where}[${k}]` : `${where}.${k}`, nodes));
      return children.get(k);
    },
    has(t, k) {
      note(k);
      return Reflect.has(t, k);
    },
    getOwnPropertyDescriptor(t, k) {
      note(k);
      return Reflect.getOwnPropertyDescriptor(t, k);
    },
    ownKeys(t) {
      node.map = true;
      return Reflect.ownKeys(t);
    },
  });
}

async function schemaCheck(obj, where) {
  const cls = await modelFor(obj.apiVersion, obj.kind);
  if (!cls) {
    problem(where, `no schema for apiVersion ${obj.apiVersion} kind ${obj.kind} (add it to MODULES in validate.mjs)`);
    return;
  }
  const nodes = [];
  const proxy = track(obj, "", nodes);
  try {
    cls.prototype.validate.call(proxy);
  } catch (e) {
    problem(where, `schema: ${String(e.message || e).replace(/\s+/g, " ")}`);
  }
  for (const n of nodes) {
    if (n.array || n.map) continue;
    for (const k of Object.keys(n.value)) {
      if (!n.read.has(k)) problem(where, `unknown field ${n.where ? n.where.slice(1) + "." : ""}${k} (misspelled, or not in the schema of ${obj.apiVersion} ${obj.kind})`);
    }
  }
}

// ---- KEDA 2.12 trigger metadata ----------------------------------------------
// ScaledObject trigger `metadata` is a map of strings for the CRD schema;
// these are the keys KEDA 2.12 documents for the scalers we use
// (keda.sh/docs/2.12/scalers/...). Deprecated keys removed in 2.12
// (prometheus metricName, cortexOrgID) are refused.
const KEDA_VERSION = "2.12";
const KEDA_TRIGGERS = {
  prometheus: {
    required: ["serverAddress", "query", "threshold"],
    allowed: ["serverAddress", "query", "threshold", "activationThreshold", "namespace", "customHeaders",
      "ignoreNullValues", "unsafeSsl", "authModes"],
  },
  cpu: { required: ["value"], allowed: ["value", "activationValue", "containerName"], metricType: ["Utilization", "AverageValue"] },
  memory: { required: ["value"], allowed: ["value", "activationValue", "containerName"], metricType: ["Utilization", "AverageValue"] },
  redis: {
    required: ["listName"],
    allowed: ["address", "addressFromEnv", "host", "hostFromEnv", "port", "portFromEnv", "username", "usernameFromEnv",
      "passwordFromEnv", "listName", "listLength", "activationListLength", "databaseIndex", "enableTLS", "unsafeSsl"],
  },
};

// ---- rendered manifests ------------------------------------------------------

function podSpecOf(o) {
  if (["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(o.kind)) return o.spec?.template?.spec;
  if (o.kind === "Pod") return o.spec;
  return null;
}
function podLabelsOf(o) {
  return o.kind === "Pod" ? o.metadata?.labels || {} : o.spec?.template?.metadata?.labels || {};
}
function matches(selector, labels) {
  const s = Object.entries(selector || {});
  return s.length > 0 && s.every(([k, v]) => labels[k] === v);
}
function sbServiceOf(container) {
  const m = /(?:^|\/)switchboard\/(ingest|classify|route|sla-timer|notify)(?:[:@]|$)/.exec(container.image || "");
  if (m) return m[1];
  return SERVICES.includes(container.name) && /switchboard/.test(container.image || "") ? container.name : null;
}
function envValue(c, name) {
  const e = (c.env || []).find((x) => x.name === name);
  return e && e.value !== undefined ? String(e.value) : undefined;
}
function probePort(c, probe) {
  const p = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
  if (typeof p === "number") return p;
  const named = (c.ports || []).find((x) => x.name === p);
  return named ? named.containerPort : undefined;
}
function memBytes(q) {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(String(q));
  if (!m) return NaN;
  const mult = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[m[2]] || 1;
  return Number(m[1]) * mult;
}

// CURVE: on in every service (bus keys) and at the edge of ingest and
// notify; each SB_*CURVE*_FILE must be a file that a mounted Secret volume
// provides: inside its mountPath, among its items (when it lists any), and
// a key of the Secret (when the Secret is in the rendering).
const CURVE_REQUIRED = ["SB_CURVE_SECRET_KEY_FILE", "SB_CURVE_CLIENTS_FILE"];
const EDGE_CURVE_REQUIRED = ["SB_EDGE_CURVE_SECRET_KEY_FILE", "SB_EDGE_CURVE_CLIENTS_FILE"];
function checkCurve(c, cw, svc, spec, objs) {
  const required = [...CURVE_REQUIRED, ...(EDGE_SERVICES.includes(svc) ? EDGE_CURVE_REQUIRED : [])];
  for (const name of required) if (!envValue(c, name)) problem(cw, `${name} is not set (CURVE must be on in the manifests)`);
  for (const e of c.env || []) {
    if (!/^SB_(EDGE_)?CURVE_.*_FILE$/.test(e.name) || e.value === undefined) continue;
    const file = e.value;
    const vm = (c.volumeMounts || []).find((m) => file.startsWith(m.mountPath.replace(/\/?$/, "/")));
    const vol = vm && (spec.volumes || []).find((v) => v.name === vm.name);
    if (!vol?.secret) {
      problem(cw, `env ${e.name} ${file} is not in a mounted Secret volume`);
      continue;
    }
    const rel = file.slice(vm.mountPath.replace(/\/?$/, "/").length);
    const items = vol.secret.items;
    const item = items ? items.find((i) => i.path === rel) : { key: rel };
    if (!item) {
      problem(cw, `env ${e.name} ${file}: the Secret volume ${vol.name} has no item ${rel}`);
      continue;
    }
    const secret = objs.find((x) => x.o.kind === "Secret" && x.o.metadata.name === vol.secret.secretName);
    const keys = secret ? [...Object.keys(secret.o.data || {}), ...Object.keys(secret.o.stringData || {})] : null;
    if (keys && !keys.includes(item.key))
      problem(cw, `env ${e.name} ${file}: Secret ${vol.secret.secretName} has no key ${item.key}`);
  }
}

function checkObjects(objs, externalSecrets, env) {
  const byKind = (k) => objs.filter((x) => x.o.kind === k);
  const names = (k) => new Set(byKind(k).map((x) => x.o.metadata?.name));
  const configMaps = names("ConfigMap");
  const secrets = new Set([...names("Secret"), ...externalSecrets]);
  const workloads = objs.filter((x) => podSpecOf(x.o));
  const scaled = new Set(byKind("ScaledObject").map((x) => x.o.spec?.scaleTargetRef?.name));

  for (const { o, where } of workloads) {
    const spec = podSpecOf(o);
    if (o.kind !== "Pod" && o.spec?.selector?.matchLabels && !matches(o.spec.selector.matchLabels, podLabelsOf(o)))
      problem(where, "spec.selector.matchLabels does not match the pod template's labels");
    // references
    for (const v of spec.volumes || []) {
      if (v.configMap && !configMaps.has(v.configMap.name)) problem(where, `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
      if (v.secret && !secrets.has(v.secret.secretName)) problem(where, `volume ${v.name}: no Secret ${v.secret.secretName}`);
    }
    const mounts = new Set();
    for (const c of [...(spec.initContainers || []), ...(spec.containers || [])]) {
      const cw = `${where} container ${c.name}`;
      for (const e of c.env || []) {
        const s = e.valueFrom?.secretKeyRef, m = e.valueFrom?.configMapKeyRef;
        if (s && !secrets.has(s.name)) problem(cw, `env ${e.name}: no Secret ${s.name}`);
        if (m && !configMaps.has(m.name)) problem(cw, `env ${e.name}: no ConfigMap ${m.name}`);
      }
      for (const e of c.envFrom || []) {
        if (e.secretRef && !secrets.has(e.secretRef.name)) problem(cw, `envFrom: no Secret ${e.secretRef.name}`);
        if (e.configMapRef && !configMaps.has(e.configMapRef.name)) problem(cw, `envFrom: no ConfigMap ${e.configMapRef.name}`);
      }
      for (const vm of c.volumeMounts || []) {
        const claims = o.kind === "StatefulSet" ? (o.spec.volumeClaimTemplates || []).map((t) => t.metadata?.name) : [];
        if (!(spec.volumes || []).some((v) => v.name === vm.name) && !claims.includes(vm.name))
          problem(cw, `volumeMount ${vm.name}: no such volume`);
        mounts.add(vm.mountPath);
      }
      for (const p of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        if (c[p] && (c[p].httpGet || c[p].tcpSocket) && probePort(c, c[p]) === undefined)
          problem(cw, `${p}: port ${c[p].httpGet?.port ?? c[p].tcpSocket?.port} is not a port of the container`);
      }
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory)
        problem(cw, "needs resources.requests.cpu, requests.memory and limits.memory");
      if (!c.livenessProbe || !c.readinessProbe) problem(cw, "needs a livenessProbe and a readinessProbe");
      const nonRoot = c.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot;
      if (nonRoot !== true) problem(cw, "runAsNonRoot must be true");

      const svc = sbServiceOf(c);
      if (!svc) continue;
      // switchboard services
      for (const e of c.env || []) {
        if (e.name.startsWith("SB_") && !env[svc].has(e.name) && !IMAGE_ENV.has(e.name))
          problem(cw, `env ${e.name}: sb-${svc} has no such option (see sb-${svc} --help)`);
      }
      if (spec.enableServiceLinks !== false)
        problem(cw, "set enableServiceLinks: false (service links inject SB_* variables such as SB_REDIS_PORT)");
      const tenants = envValue(c, "SB_TENANTS");
      if (!tenants) problem(cw, "SB_TENANTS is not set (the services need --tenants)");
      else if (![...mounts].some((m) => tenants.startsWith(m.replace(/\/?$/, "/"))))
        problem(cw, `SB_TENANTS ${tenants} is not inside a mounted volume`);
      if (!(c.env || []).some((e) => e.name === "SB_REDIS_URL" && e.valueFrom?.secretKeyRef))
        problem(cw, "SB_REDIS_URL must come from a Secret (it carries the Redis password)");
      if (envValue(c, "SB_HOST") !== "0.0.0.0") problem(cw, "SB_HOST must be 0.0.0.0 in a pod");
      const offset = Number(envValue(c, "SB_PORT_OFFSET") || 0);
      const admin = Number(envValue(c, "SB_ADMIN_PORT") || 0) || ADMIN_PORT[svc] + offset;
      const probes = { startupProbe: "/healthz", livenessProbe: "/healthz", readinessProbe: "/readyz" };
      for (const [p, want] of Object.entries(probes)) {
        if (!c[p]) problem(cw, `needs a ${p}`);
        else if (c[p].httpGet?.path !== want || probePort(c, c[p]) !== admin)
          problem(cw, `${p} must GET ${want} on the admin port ${admin}`);
      }
      const ports = new Set((c.ports || []).map((p) => p.containerPort));
      for (const p of LISTEN_PORTS[svc]) if (!ports.has(p + offset)) problem(cw, `container port ${p + offset} missing`);
      if (svc !== "notify" && !envValue(c, "SB_NEXT"))
        problem(cw, "SB_NEXT is not set (the default, tcp://SB_HOST:port, is this pod itself)");
      const sleep = (c.lifecycle?.preStop?.exec?.command || []).join(" ").match(/^sleep (\d+)$/);
      const preStop = sleep ? Number(sleep[1]) : c.lifecycle?.preStop?.sleep?.seconds;
      if (preStop === undefined) problem(cw, 'needs lifecycle.preStop (exec ["sleep", "N"]) so endpoints drop the pod first');
      const drain = Number(envValue(c, "SB_DRAIN_TIMEOUT_MS") || DEFAULT_DRAIN_MS) / 1000;
      const grace = spec.terminationGracePeriodSeconds ?? 30;
      if (preStop !== undefined && !(grace >= preStop + drain + 1 && grace <= preStop + drain + 30))
        problem(cw, `terminationGracePeriodSeconds ${grace} must be preStop ${preStop} s + drain ${drain} s + a margin of 1..30 s`);
      checkCurve(c, cw, svc, spec, objs);
      const limit = memBytes(c.resources?.limits?.memory);
      if (!(limit >= 64 * 1024 ** 2 && limit <= 512 * 1024 ** 2))
        problem(cw, `limits.memory ${c.resources?.limits?.memory}: keep it between the 64Mi budget and 512Mi`);
      if (o.kind === "Deployment" && scaled.has(o.metadata.name) && o.spec.replicas !== undefined)
        problem(where, "spec.replicas is set on a Deployment scaled by KEDA (every apply would reset it)");
    }
  }

  for (const { o, where } of byKind("Service")) {
    const sel = o.spec?.selector;
    if (!sel) continue;
    const pods = workloads.filter((w) => matches(sel, podLabelsOf(w.o)));
    if (!pods.length) {
      problem(where, "selector matches no workload");
      continue;
    }
    for (const p of o.spec.ports || []) {
      const t = p.targetPort ?? p.port;
      const ok = pods.every((w) => (podSpecOf(w.o).containers || []).some((c) => (c.ports || []).some((cp) => cp.name === t || cp.containerPort === t)));
      if (!ok) problem(where, `port ${p.name || p.port}: targetPort ${t} is not a container port of every selected pod`);
    }
  }
  for (const { o, where } of byKind("PodDisruptionBudget")) {
    if (!workloads.some((w) => matches(o.spec?.selector?.matchLabels, podLabelsOf(w.o)))) problem(where, "selector matches no workload");
  }
  for (const { o, where } of byKind("StatefulSet")) {
    if (!byKind("Service").some((s) => s.o.metadata.name === o.spec.serviceName)) problem(where, `serviceName ${o.spec.serviceName}: no such Service`);
  }
  for (const { o, where } of byKind("ScaledObject")) {
    const ref = o.spec?.scaleTargetRef || {};
    const kind = ref.kind || "Deployment";
    const target = workloads.find((w) => w.o.kind === kind && w.o.metadata.name === ref.name);
    if (!target) problem(where, `scaleTargetRef: no ${kind} ${ref.name}`);
    const min = o.spec.minReplicaCount ?? 0, max = o.spec.maxReplicaCount ?? 100;
    if (min > max) problem(where, `minReplicaCount ${min} > maxReplicaCount ${max}`);
    (o.spec.triggers || []).forEach((t, i) => {
      const tw = `${where} trigger ${i} (${t.type})`;
      const spec = KEDA_TRIGGERS[t.type];
      if (!spec) return problem(tw, `trigger type ${t.type} is not in the KEDA ${KEDA_VERSION} table of validate.mjs`);
      const md = t.metadata || {};
      for (const k of Object.keys(md)) if (!spec.allowed.includes(k)) problem(tw, `metadata.${k} is not a KEDA ${KEDA_VERSION} ${t.type} parameter`);
      for (const k of spec.required) if (md[k] === undefined) problem(tw, `metadata.${k} is required`);
      for (const [k, v] of Object.entries(md)) if (typeof v !== "string") problem(tw, `metadata.${k} must be a string (quote it)`);
      if (spec.metricType && !spec.metricType.includes(t.metricType)) problem(tw, `metricType must be one of ${spec.metricType.join(", ")}`);
      if ((t.type === "cpu" || t.type === "memory") && target) {
        for (const c of podSpecOf(target.o).containers || [])
          if (!c.resources?.requests?.[t.type]) problem(tw, `container ${c.name} of the target has no ${t.type} request`);
      }
    });
  }
}

async function checkK8s(files, externalSecrets) {
  const env = envOptions();
  const objs = [];
  for (const f of files) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(f, "utf8"), { uniqueKeys: true });
    docs.forEach((d, i) => {
      if (d.errors.length) return problem(`${f} doc ${i + 1}`, `YAML: ${d.errors[0].message}`);
      const o = d.toJS();
      if (o === null) return;
      const where = `${path.basename(f)} ${o.kind}/${o.metadata?.name}`;
      if (!o.apiVersion || !o.kind || !o.metadata?.name) return problem(`${f} doc ${i + 1}`, "needs apiVersion, kind and metadata.name");
      objs.push({ o, where });
    });
  }
  for (const { o, where } of objs) await schemaCheck(structuredClone(o), where);
  checkObjects(objs, externalSecrets, env);
  return objs.length;
}

// ---- Dockerfile ----------------------------------------------------------------

// Instructions with continuation lines joined; comments and blank lines dropped.
function parseDockerfile(text) {
  const out = [];
  let cur = null;
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (cur === null && (/^\s*#/.test(line) || !line.trim())) return;
    if (cur !== null && /^\s*#/.test(line)) return;
    const part = line.replace(/\\\s*$/, "");
    if (cur === null) cur = { line: i + 1, text: part.trim() };
    else cur.text += " " + part.trim();
    if (!/\\\s*$/.test(line)) {
      const m = /^(\S+)\s*(.*)$/.exec(cur.text);
      out.push({ line: cur.line, op: m[1].toUpperCase(), args: m[2] });
      cur = null;
    }
  });
  return out;
}
function execForm(args) {
  try {
    const v = JSON.parse(args);
    return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string");
  } catch {
    return false;
  }
}
function aptInstalls(args) {
  // package names after `apt-get install` in a RUN (options and shell words dropped)
  const pk = [];
  for (const m of args.matchAll(/apt-get\s+install\b([^&;|]*)/g)) {
    for (const w of m[1].trim().split(/\s+/)) if (w && !w.startsWith("-") && !w.startsWith("$")) pk.push(w);
  }
  return pk;
}

function checkDockerfile(file, depsFile, neededFile) {
  const w = path.basename(file);
  const ins = parseDockerfile(fs.readFileSync(file, "utf8"));
  const stages = [];
  for (const i of ins) {
    if (i.op === "FROM") stages.push({ from: i, ins: [] });
    else if (stages.length) stages[stages.length - 1].ins.push(i);
    else if (i.op !== "ARG") problem(`${w}:${i.line}`, `${i.op} before the first FROM`);
  }
  if (stages.length < 2) return problem(w, "must be multi-stage (a build stage and a runtime stage)");
  const build = stages[0], final = stages[stages.length - 1];
  const image = (s) => s.from.args.split(/\s+/)[0];
  if (image(build) !== "debian:12") problem(`${w}:${build.from.line}`, `the build stage must be FROM debian:12 (is ${image(build)})`);
  if (image(final) !== "debian:12-slim") problem(`${w}:${final.from.line}`, `the runtime stage must be FROM debian:12-slim (is ${image(final)})`);
  for (const s of stages) if (/:latest$|^[^:@]+$/.test(image(s)) && !stages.some((t) => new RegExp(`\\bAS\\s+${image(s)}$`, "i").test(t.from.args)))
    problem(`${w}:${s.from.line}`, `pin the base image (${image(s)})`);
  // USER in the final stage, not root
  const users = final.ins.filter((i) => i.op === "USER");
  if (!users.length) problem(w, "the final stage has no USER: the service would run as root");
  else if (/^(root|0)(:|$)/.test(users[users.length - 1].args.trim())) problem(`${w}:${users[users.length - 1].line}`, "the final USER is root");
  // exec form
  for (const s of stages) for (const i of s.ins) {
    if ((i.op === "CMD" || i.op === "ENTRYPOINT") && !execForm(i.args)) problem(`${w}:${i.line}`, `${i.op} must be in exec form (a JSON array)`);
    if (i.op === "HEALTHCHECK") {
      const m = /\bCMD\s+(.*)$/.exec(i.args);
      if (/^NONE\b/.test(i.args.trim())) problem(`${w}:${i.line}`, "HEALTHCHECK NONE");
      else if (!m || !execForm(m[1])) problem(`${w}:${i.line}`, "HEALTHCHECK CMD must be in exec form (a JSON array)");
    }
    if (i.op === "ADD" && /https?:\/\//.test(i.args)) problem(`${w}:${i.line}`, "ADD from a URL downloads at build time");
  }
  if (!final.ins.some((i) => i.op === "ENTRYPOINT" || i.op === "CMD")) problem(w, "the final stage has no ENTRYPOINT or CMD");
  if (!final.ins.some((i) => i.op === "HEALTHCHECK")) problem(w, "the final stage has no HEALTHCHECK");
  if (!final.ins.some((i) => i.op === "EXPOSE")) problem(w, "the final stage EXPOSEs no port");
  if (!final.ins.some((i) => i.op === "ENV" && /\bSB_HOST=0\.0\.0\.0\b/.test(i.args))) problem(w, "the final stage must set SB_HOST=0.0.0.0");
  if (!final.ins.some((i) => i.op === "ARG" && /^SERVICE\b/.test(i.args))) problem(w, "the final stage needs ARG SERVICE");
  if (!final.ins.some((i) => i.op === "COPY" && /--from=/.test(i.args) && /\$\{?SERVICE\}?/.test(i.args)))
    problem(w, "the runtime stage must COPY the binary named by SERVICE from the build stage");
  // build stage: the deps list, installed with xargs, and CI's build command
  if (depsFile) {
    const deps = fs.readFileSync(depsFile, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    const rel = path.relative(ROOT, depsFile);
    if (!build.ins.some((i) => i.op === "COPY" && i.args.split(/\s+/).includes(rel))) problem(w, `the build stage must COPY ${rel}`);
    if (!build.ins.some((i) => i.op === "RUN" && i.args.includes(rel) && /xargs\s+apt-get\s+install/.test(i.args)))
      problem(w, `the build stage must install ${rel} with xargs apt-get install`);
    for (const i of build.ins) if (i.op === "RUN") for (const p of aptInstalls(i.args)) if (!deps.includes(p))
      problem(`${w}:${i.line}`, `build stage installs ${p}, which is not in ${rel}`);
  }
  if (!build.ins.some((i) => i.op === "RUN" && /(^|&&|;)\s*make\s+build\b/.test(i.args)))
    problem(w, "the build stage must run `make build` (CI's build: make test runs it)");
  // runtime stage: what the binaries need, nothing more
  const runtime = final.ins.filter((i) => i.op === "RUN").flatMap((i) => aptInstalls(i.args));
  if (!runtime.length) problem(w, "the runtime stage installs no runtime library");
  if (neededFile) {
    // lines "package soname" for each NEEDED entry of the built binaries
    const base = new Set(["libc6", "libgcc-s1", "libstdc++6"]); // in debian:12-slim
    const needed = fs.readFileSync(neededFile, "utf8").split("\n").filter(Boolean).map((l) => l.split(/\s+/));
    for (const [pkg, so] of needed) if (!base.has(pkg) && !runtime.includes(pkg)) problem(w, `the binaries need ${so} (package ${pkg}), not installed in the runtime stage`);
    const used = new Set(needed.map(([p]) => p));
    for (const p of runtime) if (!used.has(p)) problem(w, `the runtime stage installs ${p}, which no binary links against`);
  }
}

// ---- compose ---------------------------------------------------------------------

function checkCompose(file) {
  const env = envOptions();
  const w = path.basename(file);
  const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"), { uniqueKeys: true, merge: true });
  if (doc.errors.length) return problem(w, `YAML: ${doc.errors[0].message}`);
  const c = doc.toJS({ maxAliasCount: 100 });
  const services = c.services || {};
  for (const [name, s] of Object.entries(services)) {
    const sw = `${w} service ${name}`;
    for (const d of Object.keys(s.depends_on || {})) if (!services[d]) problem(sw, `depends_on ${d}: no such service`);
    const nm = /^service:(.+)$/.exec(s.network_mode || "");
    if (nm && !services[nm[1]]) problem(sw, `network_mode ${s.network_mode}: no such service`);
    if (!s.healthcheck && !s.profiles) problem(sw, "needs a healthcheck");
    const svc = s.build?.args?.SERVICE;
    if (!svc) continue;
    if (!SERVICES.includes(svc)) problem(sw, `build arg SERVICE=${svc} is not a service`);
    const loadgen = (s.entrypoint || []).some((e) => /sb-loadgen$/.test(e));
    const allowed = loadgen ? new Set([...env.sbctl, ...LOADGEN_ENV]) : env[svc];
    const vars = Array.isArray(s.environment) ? s.environment.map((e) => e.split("=")[0]) : Object.keys(s.environment || {});
    for (const v of vars) if (v.startsWith("SB_") && !allowed.has(v) && !IMAGE_ENV.has(v)) problem(sw, `environment ${v}: no such option`);
    if (!loadgen && svc !== "notify" && !vars.includes("SB_NEXT")) problem(sw, "SB_NEXT is not set (the default points at the container itself)");
    if (!loadgen && !vars.includes("SB_REDIS_URL")) problem(sw, "SB_REDIS_URL is not set");
    if (!loadgen && !s.stop_grace_period) problem(sw, "needs stop_grace_period longer than the drain (10 s)");
  }
}

// ---- main --------------------------------------------------------------------------

const [mode, ...rest] = process.argv.slice(2);
const files = [], external = [];
let deps = null, needed = null;
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === "--external-secret") external.push(rest[++i]);
  else if (rest[i] === "--deps") deps = rest[++i];
  else if (rest[i] === "--needed") needed = rest[++i];
  else files.push(rest[i]);
}
if (!files.length || !["k8s", "dockerfile", "compose"].includes(mode)) {
  console.error("usage: node validate.mjs k8s|dockerfile|compose [options] FILE...");
  process.exit(2);
}
let what = "";
if (mode === "k8s") what = `${await checkK8s(files, external)} objects`;
else if (mode === "dockerfile") for (const f of files) checkDockerfile(f, deps, needed), (what = files.join(" "));
else for (const f of files) checkCompose(f), (what = files.join(" "));
for (const p of problems) console.log(p);
console.log(problems.length ? `validate ${mode}: ${problems.length} problem(s) in ${what}` : `validate ${mode}: ok (${what})`);
process.exit(problems.length ? 1 : 0);
