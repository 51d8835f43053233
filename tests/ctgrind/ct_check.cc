// ct_check: a constant-time check of the secret-input code paths, by the ctgrind technique
// (Adam Langley, "Checking that functions are constant time with Valgrind", 2010).
//
// Secret inputs are marked "undefined" for Valgrind's memcheck with VALGRIND_MAKE_MEM_UNDEFINED.
// memcheck then tracks everything computed from them, and reports an error whenever such a
// value decides a conditional jump ("Conditional jump or move depends on uninitialised
// value(s)") or is used as a memory address ("Use of uninitialised value of size 8"). Either
// is a timing leak. Results are marked defined again (they are public once computed) before
// they are compared or printed.
//
// Run under `valgrind --error-exitcode=1 --track-origins=yes ./ct_check`: zero memcheck errors
// means none of the functions below branched on, or indexed memory with, a secret value.
// Outside Valgrind the client requests are no-ops and the program just checks the results.
//
// `ct_check --negative-control` runs only deliberately leaky code (a branch on a secret bit, a
// table lookup at a secret index, and the variable-time G1::MulVartime on a secret scalar);
// under Valgrind it must produce errors, which shows the harness does detect leaks (CTest:
// ctgrind_negative_control, WILL_FAIL).
//
// Each function runs once: Valgrind is about 50 times slower than native.
#include <valgrind/memcheck.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "cipherchart/pairing/curve.h"
#include "cipherchart/pairing/fixed_base.h"
#include "cipherchart/pairing/gt.h"
#include "cipherchart/pairing/pairing.h"

namespace {

using namespace cipherchart::pairing;

template <class T>
void MarkSecret(T& v) {
  VALGRIND_MAKE_MEM_UNDEFINED(&v, sizeof(v));
}
template <class T>
void MarkPublic(T& v) {
  VALGRIND_MAKE_MEM_DEFINED(&v, sizeof(v));
}

int failures = 0;

void Expect(bool ok, const char* what) {
  std::printf("%-44s %s\n", what, ok ? "ok" : "WRONG RESULT");
  if (!ok) ++failures;
}

// The negative control: leaks one secret bit through a branch and another through a memory
// index. Volatile keeps the compiler from turning the branch into a conditional move and from
// folding the lookup away.
__attribute__((noinline)) unsigned LeakyFunction(const std::uint8_t* secret) {
  static volatile unsigned table[256];
  volatile unsigned sink = 0;
  if (secret[0] & 1) {  // secret-dependent branch
    sink = sink + 1;
  } else {
    sink = sink + 2;
  }
  sink = sink + table[secret[1]];  // secret-dependent memory address
  return sink;
}

int NegativeControl() {
  const unsigned errors_before = VALGRIND_COUNT_ERRORS;
  std::uint8_t secret[2] = {0x5b, 0xa7};
  MarkSecret(secret);
  unsigned out = LeakyFunction(secret);
  MarkPublic(out);
  // And a library function documented as variable-time, given a secret scalar marked exactly
  // as in Check(): shows the marking of an Fr reaches the scalar-multiplication code.
  Fr k = Fr::FromU64(0xb7e151628aed2a6bULL);
  MarkSecret(k);
  G1 r = G1::Generator().MulVartime(k);
  MarkPublic(r);
  std::printf(
      "negative control: ran a secret-dependent branch, a secret-indexed lookup (result %u) and\n"
      "G1::MulVartime on a secret scalar (identity: %d); memcheck must report errors\n",
      out, int(r.IsIdentity()));
  if (RUNNING_ON_VALGRIND) {
    std::printf("memcheck errors in the negative control: %u\n",
                unsigned(VALGRIND_COUNT_ERRORS - errors_before));
  }
  return 0;
}

int Check() {
  // Fixed test values (not secret in reality; memcheck is told they are).
  const Fr k_public = Fr::FromHex("0x4a1d0b67c0f4e2a39d8c71e56a0b3f2d1c9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b");
  const Fr j_public = Fr::FromHex("0x2b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfe");
  const Fp a_public = Fp::FromHex(
      "0x0fe1a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e");
  const Fp b_public = Fp::FromHex(
      "0x13a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182");
  const G1 g1 = G1::Generator();
  const G2 g2 = G2::Generator();
  const Gt gt = Pairing(g1, g2);
  const FixedBaseTable<G1> g1_table(g1);  // built from the public base, outside the check

  // Reference results, computed with public inputs and variable-time code.
  const G1 g1_ref = g1.MulVartime(k_public);
  const G2 g2_ref = g2.MulVartime(k_public);
  const Gt gt_ref = gt.PowVartime(k_public);

  const unsigned errors_before = VALGRIND_COUNT_ERRORS;

  // ---- G1 Mul(Fr): secret scalar and secret point ----
  {
    Fr k = k_public;
    G1 p = g1;
    MarkSecret(k);
    MarkSecret(p);
    G1 r = p.Mul(k);
    MarkPublic(r);
    Expect(r == g1_ref, "G1::Mul(Fr)");
  }
  // ---- G2 Mul(Fr) ----
  {
    Fr k = k_public;
    G2 p = g2;
    MarkSecret(k);
    MarkSecret(p);
    G2 r = p.Mul(k);
    MarkPublic(r);
    Expect(r == g2_ref, "G2::Mul(Fr)");
  }
  // ---- Gt::Pow(Fr): secret exponent and secret base ----
  {
    Fr k = k_public;
    Gt g = gt;
    MarkSecret(k);
    MarkSecret(g);
    Gt r = g.Pow(k);
    MarkPublic(r);
    Expect(r == gt_ref, "Gt::Pow(Fr)");
  }
  // ---- GtFixedBase::Pow: secret exponent, public table (the multi-authority encryption's
  // e(g1,g2)^lambda and e(g1,g2)^(alpha t)) ----
  {
    const GtFixedBase table(gt);
    Fr k = k_public;
    MarkSecret(k);
    Gt r = table.Pow(k);
    MarkPublic(r);
    Expect(r == gt_ref, "GtFixedBase::Pow(Fr)");
  }
  // ---- FixedBaseTable<G1>::Mul: secret scalar, public table ----
  {
    Fr k = k_public;
    MarkSecret(k);
    G1 r = g1_table.Mul(k);
    MarkPublic(r);
    Expect(r == g1_ref, "FixedBaseTable<G1>::Mul(Fr)");
  }
  // ---- G1FixedBase::Mul and the batched FixedBaseSum: secret scalars, public tables ----
  {
    const G1FixedBase table(g1);
    const G1FixedBase table2(g1_ref);
    Fr k = k_public, j = j_public;
    MarkSecret(k);
    MarkSecret(j);
    G1 r = table.Mul(k);
    MarkPublic(r);
    Expect(r == g1_ref, "G1FixedBase::Mul(Fr)");
    std::array<G1FixedBaseTerm, 3> terms = {{{&table, k, 0}, {&table2, j, 0}, {&table, j, 1}}};
    std::array<G1, 2> out;
    FixedBaseSum(terms, out);
    MarkPublic(out);
    Expect(out[0] == g1_ref + g1_ref.MulVartime(j_public) && out[1] == g1.MulVartime(j_public),
           "FixedBaseSum (batched affine)");
  }
  // ---- Fr::Inverse() ----
  {
    Fr k = k_public;
    MarkSecret(k);
    Fr inv = k.Inverse();
    Fr one = inv * k;
    MarkPublic(inv);
    MarkPublic(one);
    Expect(one == Fr::One() && !(inv == Fr::Zero()), "Fr::Inverse()");
  }
  // ---- Fr arithmetic ----
  {
    Fr x = k_public, y = j_public;
    MarkSecret(x);
    MarkSecret(y);
    Fr prod = x * y, sum = x + y, diff = x - y, neg = -x, sq = x.Square();
    MarkPublic(prod);
    MarkPublic(sum);
    MarkPublic(diff);
    MarkPublic(neg);
    MarkPublic(sq);
    Expect(prod == k_public * j_public && sum == k_public + j_public && diff == k_public - j_public &&
               neg == -k_public && sq == k_public * k_public,
           "Fr mul/add/sub/neg/square");
  }
  // ---- Fp arithmetic and Fp::Inverse ----
  {
    Fp x = a_public, y = b_public;
    MarkSecret(x);
    MarkSecret(y);
    Fp prod = x * y, sum = x + y, diff = x - y, neg = -x, sq = x.Square(), inv = x.Inverse();
    MarkPublic(prod);
    MarkPublic(sum);
    MarkPublic(diff);
    MarkPublic(neg);
    MarkPublic(sq);
    MarkPublic(inv);
    Expect(prod == a_public * b_public && sum == a_public + b_public && diff == a_public - b_public &&
               neg == -a_public && sq == a_public * a_public && (inv * a_public).IsOne(),
           "Fp mul/add/sub/neg/square/inverse");
  }
  // ---- Scalars from secret bytes: Fr::FromBytesWide (random scalars) and Fr::ToBytes ----
  {
    std::array<std::uint8_t, 48> seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = std::uint8_t(0x9e * i + 0x37);
    const Fr expected = Fr::FromBytesWide(seed);
    MarkSecret(seed);
    Fr s = Fr::FromBytesWide(seed);
    auto bytes = s.ToBytes();
    MarkPublic(s);
    MarkPublic(bytes);
    Expect(s == expected && bytes == expected.ToBytes(), "Fr::FromBytesWide / Fr::ToBytes");
  }

  const unsigned errors = VALGRIND_COUNT_ERRORS - errors_before;
  if (RUNNING_ON_VALGRIND) {
    std::printf("memcheck errors in the secret-input code paths: %u\n", errors);
  } else {
    std::printf("(not running under valgrind: only the results were checked)\n");
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--negative-control") return NegativeControl();
  if (argc != 1) {
    std::fprintf(stderr, "usage: ct_check [--negative-control]\n");
    return 2;
  }
  return Check();
}
