#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <set>

#include "engine/data/dataset.h"
#include "engine/data/idx.h"
#include "engine/data/loader.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "tests/test_util.h"

using namespace cfgan;
namespace fs = std::filesystem;

namespace {

class Data : public cfgan_test::TempDirTest {
 public:

  std::string write_bytes(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = (dir / name).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return path;
  }

  std::string write_gz(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = (dir / name).string();
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return path;
  }

  // An IDX header (magic 0 0 8 ndim, big-endian extents) followed by `data`.
  static std::vector<uint8_t> idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> out{0, 0, 8, static_cast<uint8_t>(dims.size())};
    for (uint32_t d : dims) {
      for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(d >> s));
    }
    out.insert(out.end(), data.begin(), data.end());
    return out;
  }

  void expect_error(const std::function<void()>& fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one containing: " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }

};

// Three 2x2 images of classes 0, 1, 0 in an IDX pair named like Fashion-MNIST's.
void write_tiny_fashion(Data& t, const std::vector<uint8_t>& labels) {
  t.write_gz("train-images-idx3-ubyte.gz", Data::idx({3, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  t.write_gz("train-labels-idx1-ubyte.gz", Data::idx({static_cast<uint32_t>(labels.size())}, labels));
}

}  // namespace

TEST_F(Data, IdxRoundTrip) {
  const IdxArray a = read_idx(write_gz("a.gz", idx({2, 3}, {1, 2, 3, 4, 5, 6})));
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(Data, IdxErrorsNameTheFile) {
  const std::string truncated = write_gz("t.gz", idx({10, 10}, {1, 2, 3}));
  expect_error([&] { read_idx(truncated); }, truncated + ": truncated: the data needs 100 bytes");
  const std::string magic = write_gz("m.gz", {1, 2, 3, 4, 5});
  expect_error([&] { read_idx(magic); }, magic + ": not an unsigned-byte IDX file");
  const std::string extra = write_gz("e.gz", idx({2}, {1, 2, 3}));
  expect_error([&] { read_idx(extra); }, "has bytes after the 2");
  expect_error([&] { read_idx((dir / "missing.gz").string()); }, "missing.gz: cannot open");
  // Headers that announce far more than the file holds (found by the fuzzer, which made the
  // reader allocate 2.8 PB before reading a byte): truncated after what is there, or too big.
  const std::string huge = write_gz("h.gz", idx({60000, 60000, 28}, {1, 2, 3, 4}));
  expect_error([&] { read_idx(huge); }, huge + ": truncated: the data needs 100800000000 bytes, the file ends after 4");
  const std::string absurd = write_gz("x.gz", idx({0xffffffffu, 0xffffffffu, 0xffffffffu}, {}));
  expect_error([&] { read_idx(absurd); }, absurd + ": the dimensions announce more than 1099511627776 bytes");
}

TEST_F(Data, FashionMnistLayoutAndLabelChecks) {
  write_tiny_fashion(*this, {0, 1, 0});
  const ImageDataset d = load_fashion_mnist(dir.string(), "train");
  EXPECT_EQ(d.count, 3);
  EXPECT_EQ(d.height, 2);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{0, 1, 0}));
  EXPECT_EQ(d.class_names[9], "Ankle boot");
  write_tiny_fashion(*this, {0, 1});
  expect_error([&] { load_fashion_mnist(dir.string(), "train"); }, "has 2 labels but");
  write_tiny_fashion(*this, {0, 11, 0});
  expect_error([&] { load_fashion_mnist(dir.string(), "train"); }, "label 11 at position 1");
}

TEST_F(Data, RealFashionMnistIsThere) {
  const ImageDataset d = load_fashion_mnist(kFashionMnistDir, "test");
  EXPECT_EQ(d.count, 10000);
  EXPECT_EQ(d.height, 28);
  EXPECT_EQ(d.width, 28);
  std::vector<int> per_class(10, 0);
  for (int32_t l : d.labels) ++per_class[l];
  for (int c : per_class) EXPECT_EQ(c, 1000);
}

TEST_F(Data, SubsetIsSeededAndBalanced) {
  const ImageDataset d = load_fashion_mnist(kFashionMnistDir, "test");
  const ImageDataset a = select_subset(d, {0, 3, 7}, 20, 5), b = select_subset(d, {0, 3, 7}, 20, 5);
  const ImageDataset c = select_subset(d, {0, 3, 7}, 20, 6);
  EXPECT_EQ(a.count, 60);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_NE(a.pixels, c.pixels);
  std::set<int32_t> classes(a.labels.begin(), a.labels.end());
  EXPECT_EQ(classes, (std::set<int32_t>{0, 3, 7}));
  expect_error([&] { select_subset(d, {10}, 0, 1); }, "--classes: class 10 does not exist");
  expect_error([&] { select_subset(d, {1}, 5000, 1); }, "has only 1000 images");
}

TEST_F(Data, LoaderScalesShufflesAndResumes) {
  ImageDataset d;
  d.count = 10, d.channels = 1, d.height = 1, d.width = 2;
  d.class_names = {"a"};
  for (int i = 0; i < 10; ++i) {
    d.pixels.push_back(static_cast<uint8_t>(i));
    d.pixels.push_back(255);
    d.labels.push_back(0);
  }
  DataLoader loader(d, 4, 3);
  std::vector<std::vector<float>> batches;
  for (int i = 0; i < 6; ++i) batches.push_back(loader.next().images.to_host());
  // Two full batches per epoch (the last 2 images are dropped), so 6 batches span 3 epochs.
  EXPECT_EQ(loader.epoch(), 2);
  std::set<float> first_epoch;
  for (int b = 0; b < 2; ++b) {
    for (int i = 0; i < 4; ++i) {
      EXPECT_FLOAT_EQ(batches[b][2 * i + 1], 1.0f);  // 255 -> 1
      first_epoch.insert(batches[b][2 * i]);
    }
  }
  EXPECT_EQ(first_epoch.size(), 8u);  // no image twice in an epoch
  EXPECT_NE(batches[0], batches[2]);  // a new order each epoch
  DataLoader again(d, 4, 3);
  again.seek(1, 4);
  EXPECT_EQ(again.next().images.to_host(), batches[3]);
  expect_error([&] { DataLoader(d, 11, 1); }, "--batch 11 is larger than the data set");
}

TEST_F(Data, ImageFolderReadsClassesResizesAndConverts) {
  for (const char* cls : {"cats", "dogs"}) {
    for (int i = 0; i < 2; ++i) {
      Image img{6, 4, 3, std::vector<uint8_t>(6 * 4 * 3, static_cast<uint8_t>(cls[0] == 'c' ? 30 : 200))};
      write_png((dir / cls / ("img" + std::to_string(i) + ".png")).string(), img);
    }
  }
  fs::create_directories(dir / "empty_class");
  const ImageDataset d = load_image_folder(dir.string(), 8, 1);
  EXPECT_EQ(d.count, 4);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cats", "dogs"}));
  EXPECT_EQ(d.labels, (std::vector<int32_t>{0, 0, 1, 1}));
  EXPECT_EQ(d.height, 8);
  EXPECT_EQ(d.channels, 1);
  EXPECT_NEAR(d.pixels[0], 30, 1);
  EXPECT_NEAR(d.pixels.back(), 200, 1);
  const ImageDataset rgb = load_image_folder(dir.string(), 4, 3);
  EXPECT_EQ(rgb.pixels.size(), 4u * 3 * 4 * 4);
}

// A damaged header must not make read_image decode what the file does not hold: stb fills
// missing pixels with zeros, so a 54-byte BMP announcing 20,000 x 20,000 pixels would
// allocate 1.2 GB and decode for seconds. TGA (no magic number) is not read at all.
TEST_F(Data, ImageHeadersLargerThanTheFileAreRefused) {
  auto bmp_header = [](int32_t width, int32_t height) {
    std::vector<uint8_t> b(54, 0);
    auto put32 = [&](size_t at, int32_t v) {
      for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(static_cast<uint32_t>(v) >> (8 * i));
    };
    b[0] = 'B', b[1] = 'M';
    put32(2, 54), put32(10, 54), put32(14, 40), put32(18, width), put32(22, height);
    b[26] = 1, b[28] = 24;  // one plane, 24 bits per pixel, uncompressed
    return b;
  };
  expect_error([&] { read_image(write_bytes("huge.bmp", bmp_header(20000, 20000))); },
               "announces 20000 x 20000 pixels, more than cfgan reads");
  expect_error([&] { read_image(write_bytes("big.bmp", bmp_header(3000, 3000))); },
               "announces 3000 x 3000 pixels, more than a file of this size can hold");
  // Top-down (negative height), as fuzz_image found: 40 x 16,774,148 pixels from 39 bytes.
  expect_error([&] { read_image(write_bytes("top_down.bmp", bmp_header(40, -16774148))); },
               "announces 40 x 16774148 pixels, more than cfgan reads");
  std::vector<uint8_t> small(54 + 2 * 8, 0x40);  // two rows of 2 pixels, each row padded to 8 bytes
  const std::vector<uint8_t> header = bmp_header(2, 2);
  std::copy(header.begin(), header.end(), small.begin());
  const Image image = read_image(write_bytes("small.bmp", small), 3);
  EXPECT_EQ(image.width, 2);
  EXPECT_EQ(image.pixels, std::vector<uint8_t>(12, 0x40));
  std::vector<uint8_t> tga(18 + 2 * 2 * 3, 0x40);  // a valid uncompressed 2 x 2 true-colour TGA
  std::fill(tga.begin(), tga.begin() + 18, 0);
  tga[2] = 2, tga[12] = 2, tga[14] = 2, tga[16] = 24;
  expect_error([&] { read_image(write_bytes("tiny.tga", tga)); }, "not a readable image");
}

// An 8 x 8 gray baseline JPEG whose one block is flat (DC difference 0, end of block), with
// one 1-bit code in DC table 0 and AC table 0; `scan_tables` is what the scan asks for.
// Found by fuzz_image: stb decodes a scan with a table no DHT segment defined (its
// uninitialized memory, read with an index of -65231).
TEST_F(Data, JpegScansWithUndefinedHuffmanTablesAreRefused) {
  auto jpeg = [](uint8_t scan_tables) {
    std::vector<uint8_t> b = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    b.insert(b.end(), 64, 1);  // quantization table 0: all ones
    for (int v : {0xFF, 0xC0, 0x00, 0x0B, 8, 0, 8, 0, 8, 1, 1, 0x11, 0}) b.push_back(static_cast<uint8_t>(v));
    for (int v : {0xFF, 0xC4, 0x00, 0x26}) b.push_back(static_cast<uint8_t>(v));
    for (uint8_t table : {0x00, 0x10}) {  // DC 0, then AC 0: one code of length 1, symbol 0
      b.push_back(table);
      b.push_back(1);
      b.insert(b.end(), 15, 0);
      b.push_back(0);
    }
    for (int v : {0xFF, 0xDA, 0x00, 0x08, 1, 1, static_cast<int>(scan_tables), 0, 63, 0, 0x3F, 0xFF, 0xD9})
      b.push_back(static_cast<uint8_t>(v));
    return b;
  };
  const Image flat = read_image(write_bytes("flat.jpg", jpeg(0x00)));
  EXPECT_EQ(flat.width, 8);
  EXPECT_EQ(flat.pixels, std::vector<uint8_t>(64, 128));
  expect_error([&] { read_image(write_bytes("ac1.jpg", jpeg(0x01))); },
               "damaged JPEG (a scan decodes with a Huffman table that was never defined)");
  expect_error([&] { read_image(write_bytes("dc2.jpg", jpeg(0x20))); }, "never defined");
}

// Found by fuzz_image: stb reallocates its buffer to an IDAT chunk's declared length before
// reading the chunk, so a PNG of a few dozen bytes could allocate 2 GiB.
TEST_F(Data, PngChunksLongerThanTheFileAreRefused) {
  std::vector<uint8_t> bytes = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n',
                                0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 5, 0, 0, 0, 3, 8, 0, 0, 0, 0,
                                0x7e, 0x5d, 0x9a, 0x24,  // IHDR: 5 x 3, 8-bit gray; its CRC
                                0x7f, 0xff, 0xff, 0xf0, 'I', 'D', 'A', 'T', 0x78, 0x9c, 0x63};
  const std::string path = write_bytes("damaged.png", bytes);
  expect_error([&] { read_image(path); }, "damaged PNG (a chunk declares more bytes than the file holds)");
}

// Found by fuzz_image: fill bytes, the start of a JPEG, then a Huffman table (marker C4)
// whose 16 counts add up to far more than 256 symbols. Debian's stb_image writes them past
// its table; read_image must refuse the file before stb sees it.
TEST_F(Data, JpegHuffmanTablesWithTooManySymbolsAreRefused) {
  const std::vector<uint8_t> bytes = {0xff, 0xff, 0xd8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc4, 0x5e, 0x64, 0x00,
                                      0x00, 0x00, 0x28, 0x00, 0xce, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x50, 0x4e, 0x00, 0x01, 0x00, 0x2e, 0xff, 0x19};
  const std::string path = write_bytes("damaged.jpg", bytes);
  expect_error([&] { read_image(path); }, "damaged JPEG (a Huffman table declares more than 256 symbols)");
}

TEST(Image, GridLayoutAndScaling) {
  // Two 1x1x2x2 images: all -1 (black) and all +1 (white), grid of 2 columns, padding 1.
  Tensor images = Tensor::from_host({2, 1, 2, 2}, {-1, -1, -1, -1, 1, 1, 1, 1});
  const Image grid = image_grid(images, 2, 1, 128);
  EXPECT_EQ(grid.width, 2 * 2 + 3);
  EXPECT_EQ(grid.height, 2 + 2);
  EXPECT_EQ(grid.pixels[0], 128);                  // padding
  EXPECT_EQ(grid.pixels[1 * grid.width + 1], 0);   // first tile
  EXPECT_EQ(grid.pixels[1 * grid.width + 4], 255);  // second tile
}
