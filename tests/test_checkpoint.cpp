#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "engine/nn/init.h"
#include "engine/nn/layers.h"
#include "engine/optim/optimizer.h"
#include "tests/test_util.h"

using namespace cfgan;
namespace fs = std::filesystem;

namespace {

class Checkpoint : public cfgan_test::TempDirTest {
 protected:

  // Expects load_safetensors(file) to throw an Error whose message contains `needle`.
  void expect_load_error(const std::string& file, const std::string& needle) {
    try {
      load_safetensors(file);
      ADD_FAILURE() << "no error loading " << file;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }

  void write_raw(const std::string& file, const std::string& header, size_t data_bytes) {
    std::ofstream out(file, std::ios::binary);
    uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header << std::string(data_bytes, '\0');
  }

};

}  // namespace

TEST_F(Checkpoint, RoundTripModuleOptimizerAndMetadata) {
  manual_seed(4);
  Sequential a({std::make_shared<Linear>(3, 4), std::make_shared<BatchNorm1d>(4)});
  Adam opt_a(a.named_parameters());
  sum(a(Tensor::ones({2, 3}))).backward();
  opt_a.step();
  NamedTensors all = a.state_dict();
  for (auto& [name, t] : opt_a.state_dict()) all.emplace_back("opt." + name, t);
  save_safetensors(path("ck.safetensors"), all, {{"step", "1"}, {"seed", "4"}});

  manual_seed(99);
  Sequential b({std::make_shared<Linear>(3, 4), std::make_shared<BatchNorm1d>(4)});
  Adam opt_b(b.named_parameters());
  const SafetensorsFile file = load_safetensors(path("ck.safetensors"));
  b.load_state_dict(file.tensors);
  opt_b.load_state_dict(file.tensors, "opt.");
  EXPECT_EQ(file.metadata.at("step"), "1");
  EXPECT_EQ(opt_b.steps(), 1);
  const NamedTensors sa = a.state_dict(), sb = b.state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_EQ(sa[i].second.to_host(), sb[i].second.to_host()) << sa[i].first;
  const NamedTensors oa = opt_a.state_dict(), ob = opt_b.state_dict();
  for (size_t i = 0; i < oa.size(); ++i) EXPECT_EQ(oa[i].second.to_host(), ob[i].second.to_host()) << oa[i].first;
}

TEST_F(Checkpoint, FileIsValidSafetensors) {
  save_safetensors(path("x.safetensors"), {{"w", Tensor::from_host({2, 2}, {1, 2, 3, 4})}});
  std::ifstream in(path("x.safetensors"), std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, ' ');
  in.read(header.data(), static_cast<std::streamsize>(n));
  EXPECT_EQ(n % 8, 0u);
  EXPECT_NE(header.find("\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}"), std::string::npos)
      << header;
  float values[4];
  in.read(reinterpret_cast<char*>(values), 16);
  EXPECT_EQ(values[3], 4.0f);
  EXPECT_EQ(fs::file_size(path("x.safetensors")), 8 + n + 16);
}

TEST_F(Checkpoint, OverwriteLeavesNoTempFiles) {
  save_safetensors(path("c.safetensors"), {{"w", Tensor::ones({3})}});
  save_safetensors(path("c.safetensors"), {{"w", Tensor::zeros({3})}});
  EXPECT_EQ(load_safetensors(path("c.safetensors")).tensors.at("w").to_host()[0], 0.0f);
  int files = 0;
  for (auto& entry : fs::directory_iterator(dir)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(Checkpoint, TruncatedFileNamesTheTensor) {
  save_safetensors(path("t.safetensors"), {{"a", Tensor::ones({4})}, {"big", Tensor::ones({100})}});
  fs::resize_file(path("t.safetensors"), fs::file_size(path("t.safetensors")) - 10);
  expect_load_error(path("t.safetensors"), "'big'");
  fs::resize_file(path("t.safetensors"), 5);
  expect_load_error(path("t.safetensors"), "too short");
}

TEST_F(Checkpoint, CorruptHeaderIsReported) {
  write_raw(path("bad.safetensors"), "{not json", 0);
  expect_load_error(path("bad.safetensors"), "not valid JSON");
  std::ofstream(path("huge.safetensors"), std::ios::binary) << std::string(8, '\x7f') << "{}";
  expect_load_error(path("huge.safetensors"), "exceeds the file size");
  expect_load_error(path("missing.safetensors"), "cannot open");
}

TEST_F(Checkpoint, TensorsMustTileTheDataSection) {
  // The header length one less than the real header: every tensor shifts by a byte and would
  // otherwise load as noise.
  save_safetensors(path("h.safetensors"), {{"w", Tensor::ones({4})}});
  std::fstream f(path("h.safetensors"), std::ios::in | std::ios::out | std::ios::binary);
  unsigned char len[8];
  f.read(reinterpret_cast<char*>(len), 8);
  len[0] = static_cast<unsigned char>(len[0] - 1);  // headers here are short: the low byte holds it
  f.seekp(0);
  f.write(reinterpret_cast<const char*>(len), 8);
  f.close();
  expect_load_error(path("h.safetensors"), "header length");
  write_raw(path("gap.safetensors"), R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
  expect_load_error(path("gap.safetensors"), "a gap at byte 0");
  write_raw(path("overlap.safetensors"),
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            8);
  expect_load_error(path("overlap.safetensors"), "an overlap at byte 4");
  write_raw(path("tail.safetensors"), R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8);
  expect_load_error(path("tail.safetensors"), "the data section has 8 bytes but the tensors cover 4");
}

TEST_F(Checkpoint, EmptyTensorsRoundTrip) {
  // A (0, 3) tensor takes no bytes; its data_offsets are [k, k]. (Found by the fuzzer: the
  // reader copied zero bytes into an empty vector's null data().)
  save_safetensors(path("e.safetensors"), {{"z", Tensor::zeros({0, 3})}, {"w", Tensor::ones({1})}});
  const SafetensorsFile f = load_safetensors(path("e.safetensors"));
  EXPECT_EQ(f.tensors.at("z").shape(), Shape({0, 3}));
  EXPECT_EQ(f.tensors.at("w").to_host(), std::vector<float>{1.0f});
}

TEST_F(Checkpoint, ByteTensorsRoundTrip) {
  save_safetensors(path("m.safetensors"), {{"w", Tensor::ones({2})}}, {{"k", "v"}},
                   {{"masks", ByteTensor{Shape{2, 3}, {0, 1, 2, 253, 254, 255}}}});
  const SafetensorsFile f = load_safetensors(path("m.safetensors"));
  EXPECT_EQ(f.bytes.at("masks").shape, Shape({2, 3}));
  EXPECT_EQ(f.bytes.at("masks").data, (std::vector<uint8_t>{0, 1, 2, 253, 254, 255}));
  EXPECT_EQ(f.tensors.at("w").to_host(), (std::vector<float>{1, 1}));
}

TEST_F(Checkpoint, WrongDtypeIsRejected) {
  write_raw(path("f16.safetensors"), R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4);
  expect_load_error(path("f16.safetensors"), "dtype F16, expected F32");
}

TEST_F(Checkpoint, OffsetsThatDisagreeWithShapeAreRejected) {
  write_raw(path("o.safetensors"), R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8);
  expect_load_error(path("o.safetensors"), "shape [3] needs 12");
}

TEST_F(Checkpoint, MissingTensorAndShapeMismatchNameTheKey) {
  Linear small(3, 4), other(3, 5);
  save_safetensors(path("s.safetensors"), small.state_dict());
  const TensorMap tensors = load_safetensors(path("s.safetensors")).tensors;
  try {
    other.load_state_dict(tensors);
    FAIL() << "expected a shape error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'weight'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[5, 3]"), std::string::npos) << msg;
  }
  Linear no_bias(3, 4, false);
  save_safetensors(path("nb.safetensors"), no_bias.state_dict());
  try {
    small.load_state_dict(load_safetensors(path("nb.safetensors")).tensors);
    FAIL() << "expected a missing-tensor error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'bias' is missing"), std::string::npos) << e.what();
  }
}
