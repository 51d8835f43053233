// A FAME Setup (CP-ABE or KP-ABE) shared by every test of a suite (Setup costs a few group
// exponentiations; the tests only need one authority).
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "cipherchart/abe/fame.h"
#include "cipherchart/abe/fame_kp.h"

namespace cipherchart::abe::testing {

// keys_ is the result of kSetup(), made once per suite.
template <class SetupResult, Result<SetupResult> (*kSetup)()>
class SchemeKeysFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = kSetup();
    ASSERT_TRUE(s.has_value());
    keys_ = new SetupResult(std::move(*s));
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }
  static inline SetupResult* keys_ = nullptr;
};

}  // namespace cipherchart::abe::testing

namespace cipherchart::abe::fame::testing {
using FameKeysFixture = abe::testing::SchemeKeysFixture<SetupResult, &fame::Setup>;
}  // namespace cipherchart::abe::fame::testing

namespace cipherchart::abe::fame_kp::testing {
using FameKpKeysFixture = abe::testing::SchemeKeysFixture<SetupResult, &fame_kp::Setup>;
}  // namespace cipherchart::abe::fame_kp::testing
