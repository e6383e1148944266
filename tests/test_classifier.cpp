// The classifier's attribute heads, block taps and the decisions the causal scores read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/nn/init.h"
#include "engine/ops.h"
#include "models/classifier.h"
#include "models/world/scores.h"
#include "tests/test_util.h"

using namespace cfgan;
using ::testing::HasSubstr;

namespace {

ClassifierSpec small_spec(bool multi_label, int64_t outputs) {
  ClassifierSpec s;
  s.image_size = 32, s.channels = 3, s.num_classes = outputs, s.width = 4, s.features = 8, s.multi_label = multi_label;
  return s;
}

}  // namespace

TEST(Classifier, TapsAreTheBlocksOfOneForwardPass) {
  manual_seed(3);
  Classifier model(small_spec(false, 3));
  model.eval();
  Generator gen(4);
  const Tensor x = Tensor::rand({2, 3, 32, 32}, gen, Device::cpu, -1.0f, 1.0f);
  NoGrad no_grad;
  const auto taps = model.taps(x);
  ASSERT_EQ(taps.size(), 4u);
  EXPECT_EQ(taps[0].first, "block1");
  EXPECT_EQ(taps[0].second.shape(), Shape({2, 4, 16, 16}));
  EXPECT_EQ(taps[1].first, "block2");
  EXPECT_EQ(taps[1].second.shape(), Shape({2, 8, 8, 8}));
  EXPECT_EQ(taps[2].first, "features");
  EXPECT_EQ(taps[2].second.to_host(), model.features(x).to_host());
  EXPECT_EQ(taps[3].first, "logits");
  EXPECT_EQ(taps[3].second.to_host(), model.logits(x).to_host());
}

TEST(Classifier, SpecKeepsMultiLabelAndOldSpecsReadAsClasses) {
  const ClassifierSpec heads = small_spec(true, 1);  // one attribute head is a valid judge
  EXPECT_TRUE(ClassifierSpec::from_json(heads.to_json()).multi_label);
  const ClassifierSpec old = ClassifierSpec::from_json(
      R"({"image_size": 28, "channels": 1, "num_classes": 10, "width": 32, "features": 128})");
  EXPECT_FALSE(old.multi_label);
  ClassifierSpec one_class = small_spec(false, 1);
  EXPECT_THROW(one_class.validate(), Error);
}

TEST(Classifier, DecisionsAreArgmaxForClassesAndHalfForHeads) {
  // Zero weights and chosen biases in the head fix every logit whatever the image.
  auto fixed = [](bool multi_label, const std::vector<float>& bias) {
    auto model = std::make_shared<Classifier>(small_spec(multi_label, static_cast<int64_t>(bias.size())));
    for (auto& [name, t] : model->named_parameters()) {
      if (name == "head.weight") t.fill_(0.0f);
      if (name == "head.bias") t.copy_(Tensor::from_host({static_cast<int64_t>(bias.size())}, bias));
    }
    model->eval();
    return model;
  };
  const std::vector<uint8_t> pixels(2 * 3 * 32 * 32, 128);
  auto softmax_model = fixed(false, {0.1f, 2.0f, -1.0f});
  EXPECT_EQ(decide_with_classifier(*softmax_model, 1)(pixels.data(), nullptr, 2), (std::vector<uint8_t>{1, 1}));
  EXPECT_EQ(decide_with_classifier(*softmax_model, 0)(pixels.data(), nullptr, 2), (std::vector<uint8_t>{0, 0}));
  auto heads = fixed(true, {0.1f, -0.1f, 0.0f});
  EXPECT_EQ(decide_with_classifier(*heads, 0)(pixels.data(), nullptr, 2), (std::vector<uint8_t>{1, 1}));
  EXPECT_EQ(decide_with_classifier(*heads, 1)(pixels.data(), nullptr, 2), (std::vector<uint8_t>{0, 0}));
  EXPECT_EQ(decide_with_classifier(*heads, 2)(pixels.data(), nullptr, 2), (std::vector<uint8_t>{1, 1}));  // p = 0.5
  LoadedClassifier loaded{heads, {"Red", "Large", "Round"}, 0};
  EXPECT_EQ(loaded.output_index("Large", "--outcome"), 1);
  EXPECT_THAT(cfgan_test::error_of([&] { loaded.output_index("Hat", "--outcome"); }),
              HasSubstr("--outcome: 'Hat' is not an output of the classifier (attributes: Red, Large, Round)"));
}
