#include "cipherchart/common/error.h"

#include <gtest/gtest.h>

#include <set>

namespace cipherchart {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return Fail(ErrorCode::kInvalidArgument, "value must be positive, got " + std::to_string(v));
  return v;
}

TEST(ErrorTest, ResultCarriesValueOnSuccess) {
  auto r = ParsePositive(7);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 7);
}

TEST(ErrorTest, ResultCarriesCodeAndMessageOnFailure) {
  auto r = ParsePositive(-2);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "value must be positive, got -2");
  EXPECT_EQ(r.error().ToString(), "invalid_argument: value must be positive, got -2");
}

TEST(ErrorTest, EveryCodeHasADistinctName) {
  const ErrorCode all[] = {
      ErrorCode::kInvalidArgument, ErrorCode::kInvalidEncoding,   ErrorCode::kNonCanonical,
      ErrorCode::kBadFlags,        ErrorCode::kNotOnCurve,        ErrorCode::kNotInSubgroup,
      ErrorCode::kNoSquareRoot,    ErrorCode::kIntegrity,         ErrorCode::kSignerMismatch,
      ErrorCode::kContextMismatch, ErrorCode::kRandomnessFailure, ErrorCode::kUnsupported,
      ErrorCode::kInternal};
  std::set<std::string_view> names;
  for (auto c : all) {
    EXPECT_NE(ErrorCodeName(c), "unknown");
    names.insert(ErrorCodeName(c));
  }
  EXPECT_EQ(names.size(), std::size(all));
}

}  // namespace
}  // namespace cipherchart
