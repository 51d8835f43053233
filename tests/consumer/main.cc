#include <cstdio>

#include "cipherchart/pairing/selftest.h"

int main() {
  const auto report = cipherchart::pairing::RunSelfTest();
  std::printf("consumer of installed cipherchart: self-test %s\n", report.ok ? "passed" : "FAILED");
  return report.ok ? 0 : 1;
}
