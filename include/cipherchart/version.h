#pragma once
namespace cipherchart {
inline constexpr const char* kVersion = "0.1.0";
}
