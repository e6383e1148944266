#include <gtest/gtest.h>

#include <sstream>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"

using namespace cfgan;

TEST(Tensor, CreationAndHostCopy) {
  Tensor z = Tensor::zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.numel(), 6);
  for (float v : z.to_host()) EXPECT_EQ(v, 0.0f);
  Tensor f = Tensor::full({4}, 2.5f);
  for (float v : f.to_host()) EXPECT_EQ(v, 2.5f);
  Tensor a = Tensor::arange(5);
  EXPECT_EQ(a.to_host(), (std::vector<float>{0, 1, 2, 3, 4}));
  Tensor h = Tensor::from_host({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(h.to_host(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(Tensor::scalar(7.0f).item(), 7.0f);
  EXPECT_EQ(Tensor::scalar(7.0f).ndim(), 0);
}

TEST(Tensor, FromHostRejectsWrongCount) {
  try {
    Tensor::from_host({2, 3}, {1, 2, 3});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
}

TEST(Tensor, ViewsShareStorage) {
  Tensor x = Tensor::arange(12);
  Tensor r = x.view_as({3, 4});
  Tensor rows = r.outer_slice(1, 2);
  EXPECT_EQ(rows.shape(), (Shape{2, 4}));
  EXPECT_EQ(rows.to_host(), (std::vector<float>{4, 5, 6, 7, 8, 9, 10, 11}));
  rows.fill_(-1.0f);
  EXPECT_EQ(x.to_host()[4], -1.0f);
  EXPECT_EQ(x.to_host()[3], 3.0f);
}

TEST(Tensor, RandomIsSeededAndReproducible) {
  Generator g1(42), g2(42), g3(43);
  const std::vector<float> a = Tensor::randn({1000}, g1).to_host();
  const std::vector<float> b = Tensor::randn({1000}, g2).to_host();
  const std::vector<float> c = Tensor::randn({1000}, g3).to_host();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // The next draw continues the stream instead of repeating it.
  EXPECT_NE(Tensor::randn({1000}, g1).to_host(), a);
  double sum = 0, sq = 0;
  for (float v : a) sum += v, sq += double(v) * v;
  // 1000 standard normals: mean within 4 standard errors (0.126), variance within 0.2.
  EXPECT_NEAR(sum / 1000, 0.0, 0.126);
  EXPECT_NEAR(sq / 1000 - (sum / 1000) * (sum / 1000), 1.0, 0.2);
  Generator gu(1);
  for (float v : Tensor::rand({1000}, gu, Device::cpu, -2.0f, 3.0f).to_host()) {
    EXPECT_GE(v, -2.0f);
    EXPECT_LT(v, 3.0f);
  }
}

TEST(Tensor, PrintingIsReadable) {
  std::ostringstream out;
  out << Tensor::from_host({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(out.str(), "tensor([[1, 2], [3, 4]], shape=[2, 2], device=cpu)");
  std::ostringstream big;
  big << Tensor::arange(100);
  EXPECT_EQ(big.str(), "tensor([0, 1, 2, ..., 97, 98, 99], shape=[100], device=cpu)");
}

// Without a GPU a cuda tensor is a clear error; with one (scripts/gpu-check) it is a
// tensor like any other.
TEST(Tensor, CudaWithoutBackendIsAClearError) {
  if (cuda_available()) {
    const Tensor t = Tensor::full({2}, 3.0f, Device::cuda);
    EXPECT_EQ(t.device(), Device::cuda);
    EXPECT_EQ(t.to_host(), (std::vector<float>{3.0f, 3.0f}));
    return;
  }
  try {
    Tensor::zeros({2}, Device::cuda);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  }
}
