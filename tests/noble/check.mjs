// Noble's side of the differential test (see run.sh).
//
//   node check.mjs gen SEED N      print compressed encodings of points made by noble, for
//                                  `noble_driver decode`: N lines "g1 HEX" and N lines "g2 HEX"
//                                  (identity, +-generator, k*G for seeded random k, and
//                                  hash_to_curve outputs), then N/4 lines "j1 HEX" / "j2 HEX" of
//                                  random x-coordinates with flags (mostly invalid encodings,
//                                  whose accept/reject status must agree).
//   node check.mjs check MIN       read noble_driver's JSON lines on stdin, recompute every case
//                                  with noble, compare byte for byte; fail if any case differs
//                                  or if a required category has fewer than MIN cases.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bls12_381 as bls } from '@noble/curves/bls12-381.js';

const G1 = bls.G1.Point;
const G2 = bls.G2.Point;
const { Fp12 } = bls.fields;
const P_MOD = bls.fields.Fp.ORDER;
const R_MOD = bls.fields.Fr.ORDER;

const hexToBytes = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const bytesToHex = (b) => Buffer.from(b).toString('hex');
const fpHex = (x) => x.toString(16).padStart(96, '0');

function die(msg) {
  console.error(`check.mjs: ${msg}`);
  process.exit(2);
}

// ---------------------------------------------------------------- gen ----------------------
// Deterministic byte stream: SHA-256(seed || counter).
function makeRng(seed) {
  let counter = 0;
  let pool = Buffer.alloc(0);
  const bytes = (n) => {
    while (pool.length < n) {
      const h = createHash('sha256').update(`noble-gen:${seed}:${counter++}`).digest();
      pool = Buffer.concat([pool, h]);
    }
    const out = pool.subarray(0, n);
    pool = pool.subarray(n);
    return Uint8Array.from(out);
  };
  const big = (n) => BigInt('0x' + (bytesToHex(bytes(n)) || '0'));
  return { bytes, big, below: (n) => Number(big(4) % BigInt(n)) };
}

function gen(seed, n) {
  const rng = makeRng(seed);
  const lines = [];
  const scalar = () => {
    for (;;) {
      const k = rng.big(64) % R_MOD;
      if (k !== 0n) return k;
    }
  };
  for (const [tag, Point, hasher] of [['g1', G1, bls.G1], ['g2', G2, bls.G2]]) {
    for (let i = 0; i < n; i++) {
      let p;
      if (i === 0) p = Point.ZERO;
      else if (i === 1) p = Point.BASE;
      else if (i === 2) p = Point.BASE.negate();
      else if (i % 2 === 0) p = Point.BASE.multiply(scalar());
      else p = hasher.hashToCurve(rng.bytes(rng.below(64)), { DST: 'cipherchart-noble-gen' });
      lines.push(`${tag} ${p.toHex(true)}`);
    }
  }
  // Random x < p with the compression flag and a random sign flag: an x with no square root,
  // a point off the subgroup (almost always), rarely a valid point.
  const junkFp = () => rng.big(48) % P_MOD;
  for (let i = 0; i < Math.floor(n / 4); i++) {
    const b = hexToBytes(fpHex(junkFp()));
    b[0] |= 0x80 | (rng.below(2) ? 0x20 : 0);
    lines.push(`j1 ${bytesToHex(b)}`);
  }
  for (let i = 0; i < Math.floor(n / 4); i++) {
    const b = hexToBytes(fpHex(junkFp()) + fpHex(junkFp()));  // c1 || c0
    b[0] |= 0x80 | (rng.below(2) ? 0x20 : 0);
    lines.push(`j2 ${bytesToHex(b)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

// ---------------------------------------------------------------- check --------------------
// GT as 12 big-endian Fp coefficients: c0.c0.c0, c0.c0.c1, c0.c1.c0, ..., c1.c2.c1, walking
// noble's Fp12 = {c0, c1} of Fp6 = {c0, c1, c2} of Fp2 = {c0, c1} of bigints.
function gtHex(f) {
  const parts = [];
  for (const a of [f.c0, f.c1]) for (const b of [a.c0, a.c1, a.c2]) for (const c of [b.c0, b.c1]) parts.push(fpHex(c));
  return parts.join('');
}

// noble's multiply() takes 1 <= k < r only; 0 * P is the identity.
const mul = (P, k) => (k === 0n ? P.multiplyUnsafe(0n) : P.multiply(k));

// Per category: the noble computation, returning { field: expected hex } for the fields of
// our line to compare (a field named in the result but missing from our line is a mismatch).
const handlers = {
  g1gen: (c) => {
    const e = mul(G1.BASE, BigInt('0x' + c.k)).toHex(true);
    return { out: e, out_vt: e, out_fb: e };
  },
  g1mul: (c) => {
    const e = mul(G1.fromHex(c.p), BigInt('0x' + c.k)).toHex(true);
    return { out: e, out_vt: e };
  },
  g2gen: (c) => {
    const e = mul(G2.BASE, BigInt('0x' + c.k)).toHex(true);
    return { out: e, out_vt: e, out_fb: e };
  },
  g2mul: (c) => {
    const e = mul(G2.fromHex(c.p), BigInt('0x' + c.k)).toHex(true);
    return { out: e, out_vt: e };
  },
  h2g1: (c) => ({ out: bls.G1.hashToCurve(hexToBytes(c.msg), { DST: hexToBytes(c.dst) }).toHex(true) }),
  h2g2: (c) => ({ out: bls.G2.hashToCurve(hexToBytes(c.msg), { DST: hexToBytes(c.dst) }).toHex(true) }),
  e2g1: (c) => ({ out: bls.G1.encodeToCurve(hexToBytes(c.msg), { DST: hexToBytes(c.dst) }).toHex(true) }),
  e2g2: (c) => ({ out: bls.G2.encodeToCurve(hexToBytes(c.msg), { DST: hexToBytes(c.dst) }).toHex(true) }),
  pair: (c) => {
    const f = bls.pairing(G1.BASE.multiply(BigInt('0x' + c.a)), G2.BASE.multiply(BigInt('0x' + c.b)));
    const manual = gtHex(f);
    const viaNoble = bytesToHex(Fp12.toBytes(f));
    if (manual !== viaNoble) return { out: manual, noble_fp12_tobytes_disagrees: viaNoble };
    return { out: manual };
  },
  dec1: (c) => decode(G1, c),
  dec2: (c) => decode(G2, c),
  junk1: (c) => decode(G1, c),
  junk2: (c) => decode(G2, c),
};

// noble's decoding of c.in: its re-encodings, or { err } (we must then fail as well).
function decode(Point, c) {
  let p;
  try {
    p = Point.fromHex(c.in);
  } catch (e) {
    return { err: `noble rejects (${e.message})`, rejected: true };
  }
  return { out_c: p.toHex(true), out_u: p.toHex(false) };
}

const REQUIRED = ['g1gen', 'g1mul', 'g2gen', 'g2mul', 'h2g1', 'h2g2', 'pair', 'dec1', 'dec2'];

function check(min) {
  const text = readFileSync(0, 'utf8');
  const stats = new Map();  // category -> { pass, fail }
  const failures = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line.trim() === '') continue;
    let c;
    try {
      c = JSON.parse(line);
    } catch (e) {
      die(`line ${lineNo}: not JSON: ${line.slice(0, 200)}`);
    }
    const h = handlers[c.t];
    if (!h) die(`line ${lineNo}: unknown category ${JSON.stringify(c.t)}`);
    if (!stats.has(c.t)) stats.set(c.t, { pass: 0, fail: 0 });
    const s = stats.get(c.t);
    const diffs = [];
    try {
      const expected = h(c);
      if (expected.rejected) {
        if (c.err === undefined) diffs.push({ field: 'err', ours: `accepted: ${c.out_c}`, noble: expected.err });
      } else {
        if (c.err !== undefined) diffs.push({ field: 'err', ours: `rejected: ${c.err}`, noble: 'accepts' });
        for (const [field, want] of Object.entries(expected)) {
          if (c.err !== undefined) break;
          if (c[field] !== want) diffs.push({ field, ours: c[field], noble: want });
        }
      }
    } catch (e) {
      diffs.push({ field: '(noble threw)', ours: '', noble: String(e && e.stack ? e.stack : e) });
    }
    if (diffs.length === 0) {
      s.pass++;
    } else {
      s.fail++;
      failures.push({ case: c, diffs });
    }
  }

  let passed = 0;
  let failed = 0;
  const breakdown = [];
  for (const [t, s] of stats) {
    passed += s.pass;
    failed += s.fail;
    breakdown.push(`${t} ${s.pass}/${s.pass + s.fail}`);
  }
  console.log(`per category (passed/total): ${breakdown.join(', ')}`);
  for (const f of failures.slice(0, 5)) {
    const { t, id } = f.case;
    console.log(`MISMATCH ${t} #${id}: input ${JSON.stringify(f.case, (k, v) => (k.startsWith('out') || k === 'err' ? undefined : v))}`);
    for (const d of f.diffs) console.log(`  ${d.field}:\n    ours : ${d.ours}\n    noble: ${d.noble}`);
  }
  if (failures.length > 5) console.log(`... and ${failures.length - 5} more mismatches`);
  const short = REQUIRED.filter((t) => (stats.get(t)?.pass ?? 0) + (stats.get(t)?.fail ?? 0) < min);
  if (short.length > 0) console.log(`too few cases (< ${min}) in: ${short.join(', ')}`);
  console.log(`noble differential: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && short.length === 0 ? 0 : 1);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'gen' && args.length === 2) gen(args[0], Number(args[1]));
else if (mode === 'check' && args.length === 1) check(Number(args[0]));
else die('usage: node check.mjs gen SEED N | node check.mjs check MIN < lines');
