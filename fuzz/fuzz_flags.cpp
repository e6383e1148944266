// The flag parser on an arbitrary command line (arguments separated by NUL bytes), with a
// flag of every kind declared.
#include <string>
#include <vector>

#include "apps/common/flags.h"
#include "engine/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"fuzz"};
  args.emplace_back();
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0)
      args.emplace_back();
    else
      args.back() += static_cast<char>(data[i]);
  }
  std::vector<char*> argv;
  bool help = false;
  for (std::string& a : args) {
    argv.push_back(a.data());
    help = help || a == "--help" || a == "-h";
  }
  try {
    cfgan::Flags flags(static_cast<int>(argv.size()), argv.data(), "fuzz", "fuzzed flags");
    flags.get("name", "x", "a string");
    flags.get_int("count", 3, "an integer");
    flags.get_double("rate", 0.5, "a number");
    flags.get_bool("on", "a switch");
    flags.get_int_list("classes", "integers");
    flags.get_list("names", "", "names");
    if (!help) flags.finish();  // --help prints usage and exits, which is its job
  } catch (const cfgan::Error&) {
  }
  return 0;
}
