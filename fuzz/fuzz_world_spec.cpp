// The causal world's SCM spec (JSON) and intervention parser: the input's first line is an
// intervention ("Red=-1,Large=1"), the rest a spec; the intervention is parsed against the
// default spec and, when it parses, against the fuzzed one.
#include <string>

#include "engine/error.h"
#include "models/world/scm.h"
#include "models/world/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t newline = text.find('\n');
  const std::string intervention = text.substr(0, newline);
  const std::string spec_text = newline == std::string::npos ? "" : text.substr(newline + 1);
  auto check = [&](const cfgan::WorldSpec& spec) {
    try {
      const cfgan::Intervention v = cfgan::parse_intervention(spec, intervention, "--do");
      if (v.size() != spec.attributes.size()) __builtin_trap();
    } catch (const cfgan::Error&) {
    }
  };
  check(cfgan::WorldSpec::defaults());
  try {
    cfgan::parse_effect(intervention, "--effect");
  } catch (const cfgan::Error&) {
  }
  try {
    check(cfgan::WorldSpec::from_json(spec_text, "fuzz"));
  } catch (const cfgan::Error&) {
  }
  return 0;
}
