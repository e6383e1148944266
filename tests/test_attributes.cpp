// CelebA-format attribute files, attributes carried through image sets, and CelebA's own layout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/data/attributes.h"
#include "engine/data/dataset.h"
#include "engine/data/loader.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "tests/test_util.h"

using namespace cfgan;
using cfgan_test::error_of;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

class Attributes : public cfgan_test::TempDirTest {
 public:
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir / name).string();
    std::ofstream(path) << text;
    return path;
  }
  // A w x h RGB image of one colour, as a PNG at dir/rel.
  void image(const std::string& rel, int64_t w, int64_t h, uint8_t value) {
    fs::create_directories((dir / rel).parent_path());
    write_png((dir / rel).string(), Image{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w * h * 3), value)});
  }
};

// The head of CelebA's list_attr_celeba.txt, spacing as in the real file: single spaces
// between names (and one trailing), two before a positive value, CRLF line ends.
const char* kCelebaSnippet =
    "3\r\n"
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes \r\n"
    "000001.jpg -1  1  1 -1\r\n"
    "000002.jpg -1 -1 -1  1\r\n"
    "000003.jpg -1 -1 -1 -1\r\n";

}  // namespace

TEST_F(Attributes, ReadsCelebasOwnFormat) {
  const AttributeTable t = read_attribute_file(write("list_attr_celeba.txt", kCelebaSnippet));
  EXPECT_EQ(t.names,
            (std::vector<std::string>{"5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes"}));
  EXPECT_EQ(t.files, (std::vector<std::string>{"000001.jpg", "000002.jpg", "000003.jpg"}));
  EXPECT_EQ(t.values, (std::vector<int8_t>{-1, 1, 1, -1, -1, -1, -1, 1, -1, -1, -1, -1}));
  EXPECT_EQ(t.at(1, 3), 1);
  EXPECT_EQ(t.index_of("Attractive", "x"), 2);
  EXPECT_THAT(error_of([&] { t.index_of("Bald", "--flip"); }),
              HasSubstr("--flip: unknown attribute 'Bald' (known: 5_o_Clock_Shadow, Arched_Eyebrows"));
}

TEST_F(Attributes, WriteThenReadIsTheSameTable) {
  AttributeTable t{{"Red", "Large"}, {"000001.png", "000002.png"}, {1, -1, -1, 1}};
  const std::string path = (dir / "list_attr.txt").string();
  write_attribute_file(path, t);
  const AttributeTable back = read_attribute_file(path);
  EXPECT_EQ(back.names, t.names);
  EXPECT_EQ(back.files, t.files);
  EXPECT_EQ(back.values, t.values);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "2");
  std::getline(in, line);
  EXPECT_EQ(line, "Red Large");
  std::getline(in, line);
  EXPECT_EQ(line, "000001.png  1 -1");  // CelebA's spacing
}

TEST_F(Attributes, MalformedFilesNameTheFileAndLine) {
  EXPECT_THAT(error_of([&] { read_attribute_file(write("a.txt", "")); }), HasSubstr("a.txt: empty file"));
  EXPECT_THAT(error_of([&] { read_attribute_file(write("b.txt", "two\nRed\nx.png 1\n")); }),
              HasSubstr("b.txt:1: expected the number of images, got 'two'"));
  EXPECT_THAT(error_of([&] { read_attribute_file(write("c.txt", "2\nRed Large\nx.png 1 -1\n")); }),
              HasSubstr("c.txt: line 1 says 2 images, the file lists 1"));
  EXPECT_THAT(error_of([&] { read_attribute_file(write("d.txt", "1\nRed Large\nx.png 1\n")); }),
              HasSubstr("d.txt:3: expected a file name and 2 values, got 1 values"));
  EXPECT_THAT(error_of([&] { read_attribute_file(write("e.txt", "1\nRed\nx.png 0\n")); }),
              HasSubstr("e.txt:3: value of Red for x.png is '0', expected 1 or -1"));
  EXPECT_THAT(error_of([&] { read_attribute_file(write("f.txt", "2\nRed\nx.png 1\nx.png -1\n")); }),
              HasSubstr("f.txt:4: file 'x.png' is listed twice"));
  EXPECT_THAT(error_of([&] { read_attribute_file(write("g.txt", "1\nRed Red\nx.png 1 1\n")); }),
              HasSubstr("g.txt:2: attribute 'Red' appears twice"));
  EXPECT_THAT(error_of([&] { read_attribute_file((dir / "none.txt").string()); }), HasSubstr("cannot open"));
}

TEST_F(Attributes, FolderImagesGetTheirRowsAndKeepThemThroughSubsetsAndBatches) {
  image("a/000001.png", 4, 4, 10);
  image("a/000002.png", 4, 4, 20);
  image("b/000003.png", 4, 4, 30);
  image("b/000004.png", 4, 4, 40);
  // Rows in another order than the images, and one row for an image that is not there.
  const AttributeTable t{{"Red", "Large"},
                         {"000004.png", "000001.png", "000099.png", "000003.png", "000002.png"},
                         {1, 1, -1, -1, 1, -1, 1, -1, -1, 1}};
  ImageDataset data = load_image_folder(dir.string(), 4, 3);
  ASSERT_EQ(data.files, (std::vector<std::string>{"000001.png", "000002.png", "000003.png", "000004.png"}));
  attach_attributes(data, t, "test");
  EXPECT_EQ(data.attribute_names, t.names);
  EXPECT_EQ(data.attributes, (std::vector<int8_t>{-1, -1, -1, 1, 1, -1, 1, 1}));
  // Every image keeps its own row wherever it goes.
  const ImageDataset one = select_subset(data, {1}, 1, 3);
  ASSERT_EQ(one.count, 1);
  const size_t row = one.files[0] == "000003.png" ? 2 : 3;
  EXPECT_EQ(std::vector<int8_t>(one.attributes.begin(), one.attributes.end()),
            std::vector<int8_t>(data.attributes.begin() + 2 * row, data.attributes.begin() + 2 * row + 2));
  const auto [train, test] = split_holdout(data, 0.5, 1);
  for (const ImageDataset* part : {&train, &test})
    for (int64_t i = 0; i < part->count; ++i) {
      const auto at = std::find(data.files.begin(), data.files.end(), part->files[i]) - data.files.begin();
      EXPECT_EQ(part->attributes[2 * i], data.attributes[2 * at]) << part->files[i];
      EXPECT_EQ(part->attributes[2 * i + 1], data.attributes[2 * at + 1]) << part->files[i];
      EXPECT_EQ(part->pixels[i * part->image_bytes()], data.pixels[at * data.image_bytes()]);
    }
  // Batches carry the rows as 0/1 targets, image by image.
  DataLoader loader(data, 4, 7);
  const Batch b = loader.next();
  ASSERT_EQ(b.attributes.shape(), Shape({4, 2}));
  const std::vector<float> images = b.images.to_host(), targets = b.attributes.to_host();
  for (int64_t i = 0; i < 4; ++i) {
    const int value = static_cast<int>(std::lround((images[i * 48] + 1.0f) * 127.5f));  // which image it is
    const int64_t at = value / 10 - 1;
    EXPECT_EQ(targets[2 * i], data.attributes[2 * at] > 0 ? 1.0f : 0.0f);
    EXPECT_EQ(targets[2 * i + 1], data.attributes[2 * at + 1] > 0 ? 1.0f : 0.0f);
  }
}

TEST_F(Attributes, AMissingImageRowIsAClearError) {
  image("a/000001.png", 4, 4, 10);
  image("a/000002.png", 4, 4, 20);
  ImageDataset data = load_image_folder(dir.string(), 4, 3);
  const AttributeTable t{{"Red"}, {"000001.png"}, {1}};
  EXPECT_THAT(error_of([&] { attach_attributes(data, t, "--attributes list.txt"); }),
              HasSubstr("--attributes list.txt: no line for image '000002.png'"));
  image("b/000001.png", 4, 4, 30);  // the same bare name in another class folder
  ImageDataset twice = load_image_folder(dir.string(), 4, 3);
  EXPECT_THAT(error_of([&] { attach_attributes(twice, t, "--attributes list.txt"); }), HasSubstr("two images of"));
}

TEST_F(Attributes, CelebaLayoutIsCroppedResizedSplitAndLabelled) {
  // Five 178x218 faces: a grey frame around a white 148x148 centre, so the crop is all white.
  // (PNG bytes under .jpg names: the decoder goes by the content, as for real JPEGs.)
  for (int i = 1; i <= 5; ++i) {
    Image face{178, 218, 3, std::vector<uint8_t>(178 * 218 * 3, 60)};
    for (int y = 35; y < 35 + 148; ++y)
      for (int x = 15; x < 15 + 148; ++x)
        for (int c = 0; c < 3; ++c) face.pixels[(y * 178 + x) * 3 + c] = 255;
    fs::create_directories(dir / "img_align_celeba");
    write_png((dir / "img_align_celeba" / ("00000" + std::to_string(i) + ".jpg")).string(), face);
  }
  write("list_attr_celeba.txt",
        "5\r\nMale Smiling \r\n000001.jpg  1 -1\r\n000002.jpg -1  1\r\n000003.jpg  1  1\r\n000004.jpg -1 -1\r\n"
        "000005.jpg  1 -1\r\n");
  write("list_eval_partition.txt", "000001.jpg 0\r\n000002.jpg 0\r\n000003.jpg 0\r\n000004.jpg 1\r\n000005.jpg 2\r\n");
  const ImageDataset train = load_celeba(dir.string(), "train", 32);
  EXPECT_EQ(train.count, 3);
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(train.height, 32);
  EXPECT_EQ(train.attribute_names, (std::vector<std::string>{"Male", "Smiling"}));
  EXPECT_EQ(train.attributes, (std::vector<int8_t>{1, -1, -1, 1, 1, 1}));
  EXPECT_EQ(*std::min_element(train.pixels.begin(), train.pixels.end()), 255);  // only the centre crop is kept
  EXPECT_EQ(load_celeba(dir.string(), "valid", 32).files, (std::vector<std::string>{"000004.jpg"}));
  EXPECT_EQ(load_celeba(dir.string(), "test", 64).count, 1);
  EXPECT_EQ(load_celeba(dir.string(), "all", 32).count, 5);
  EXPECT_THAT(error_of([&] { load_celeba(dir.string(), "dev", 32); }), HasSubstr("expected train, valid, test or all"));
  fs::remove(dir / "img_align_celeba" / "000005.jpg");
  EXPECT_THAT(error_of([&] { load_celeba(dir.string(), "all", 32); }), HasSubstr("000005.jpg: listed in"));
  write("list_eval_partition.txt", "000001.jpg 7\n");
  EXPECT_THAT(error_of([&] { load_celeba(dir.string(), "all", 32); }),
              HasSubstr("list_eval_partition.txt:1: expected '<file> 0|1|2', got '000001.jpg 7'"));
  EXPECT_THAT(error_of([&] { load_celeba((dir / "nowhere").string(), "all", 32); }),
              HasSubstr("no img_align_celeba/ folder"));
}
