// A FAME KP-ABE Setup shared by every test of a suite (as fame_test_fixture.h does for CP-ABE).
#pragma once

#include <gtest/gtest.h>

#include "cipherchart/abe/fame_kp.h"

namespace cipherchart::abe::fame_kp::testing {

class FameKpKeysFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = fame_kp::Setup();
    ASSERT_TRUE(s.has_value());
    keys_ = new SetupResult(std::move(*s));
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }
  static inline SetupResult* keys_ = nullptr;
};

}  // namespace cipherchart::abe::fame_kp::testing
