// GoogleTest assertions for Result<T> (cipherchart/common/error.h), shared by the tests in this
// folder. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "cipherchart/common/error.h"

// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration, which cannot be parenthesised.
#define CC_CONCAT_INNER(a, b) a##b
#define CC_CONCAT(a, b) CC_CONCAT_INNER(a, b)
// `lhs = *expr`, failing the test (with the error) if `expr` holds an error.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) ASSERT_OK_AND_ASSIGN_IMPL(CC_CONCAT(result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                          \
  auto tmp = (expr);                                                       \
  ASSERT_TRUE(tmp.has_value()) << #expr << ": " << tmp.error().ToString(); \
  lhs = std::move(*tmp)
// NOLINTEND(bugprone-macro-parentheses)
#define ASSERT_OK(expr)                                                                  \
  do {                                                                                   \
    auto result_ok = (expr);                                                             \
    ASSERT_TRUE(result_ok.has_value()) << #expr << ": " << result_ok.error().ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                                                  \
  do {                                                                                   \
    auto result_ok = (expr);                                                             \
    EXPECT_TRUE(result_ok.has_value()) << #expr << ": " << result_ok.error().ToString(); \
  } while (0)
// `expr` fails with `expected_code`.
#define EXPECT_ERROR_CODE(expr, expected_code)                                              \
  do {                                                                                      \
    auto result_err = (expr);                                                               \
    if (result_err.has_value()) {                                                           \
      ADD_FAILURE() << #expr << " succeeded";                                               \
    } else {                                                                                \
      EXPECT_EQ(result_err.error().code(), expected_code) << result_err.error().ToString(); \
    }                                                                                       \
  } while (0)

namespace cipherchart::chart::testing {

// The value of a Result a test cannot go on without, from a helper that returns it: a failure is
// reported and thrown (GoogleTest reports the exception and ends the test).
template <class T>
T Must(Result<T> r, const std::string& what) {
  if (!r) {
    ADD_FAILURE() << what << ": " << r.error().ToString();
    throw std::runtime_error(what + " failed");
  }
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

}  // namespace cipherchart::chart::testing
