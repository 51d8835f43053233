// A known-answer self-test of the pairing library, cheap enough to run at start-up
// (`cipherchart selftest`): pairing of the generators against the published value, bilinearity
// on random scalars, and encode/decode of the generators.
#pragma once

#include <string>
#include <vector>

namespace cipherchart::pairing {

struct SelfTestReport {
  struct Check {
    std::string name;
    bool ok;
  };
  std::vector<Check> checks;
  bool ok = true;
};

SelfTestReport RunSelfTest();

}  // namespace cipherchart::pairing
