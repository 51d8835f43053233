// A FAME Setup shared by every test of a suite (Setup costs a few group exponentiations; the
// tests only need one authority).
#pragma once

#include <gtest/gtest.h>

#include "cipherchart/abe/fame.h"

namespace cipherchart::abe::fame::testing {

class FameKeysFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = fame::Setup();
    ASSERT_TRUE(s.has_value());
    keys_ = new SetupResult(std::move(*s));
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }
  static inline SetupResult* keys_ = nullptr;
};

}  // namespace cipherchart::abe::fame::testing
