// Errors on user input (shapes, files, flags) are exceptions whose message names the
// input and what was expected; apps print the message on one line and exit non-zero.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace cfgan {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

}  // namespace cfgan

// The message arguments are only evaluated when the check fails.
#define CFGAN_CHECK(cond, ...)                 \
  do {                                         \
    if (!(cond)) ::cfgan::fail(__VA_ARGS__);   \
  } while (false)
