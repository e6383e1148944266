// read_attribute_file (CelebA's list_attr_celeba.txt layout) on arbitrary bytes: the table
// it returns holds one +1/-1 value per file and attribute.
#include "engine/data/attributes.h"
#include "engine/error.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const cfgan::AttributeTable t = cfgan::read_attribute_file(cfgan::fuzz::input_file(data, size));
    if (t.values.size() != static_cast<size_t>(t.count() * t.num_attributes())) __builtin_trap();
    for (int8_t v : t.values)
      if (v != 1 && v != -1) __builtin_trap();
  } catch (const cfgan::Error&) {
  }
  return 0;
}
