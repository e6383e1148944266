#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "models/gan.h"

namespace cfgan {

std::string GanSpec::to_json() const {
  return nlohmann::json{{"discriminator", discriminator}, {"image_size", image_size}, {"channels", channels},
                        {"z_dim", z_dim},                 {"width", width},           {"num_classes", num_classes}}
      .dump();
}

GanSpec GanSpec::from_json(const std::string& text) {
  GanSpec spec;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    spec.discriminator = j.at("discriminator").get<std::string>();
    spec.image_size = j.at("image_size").get<int64_t>();
    spec.channels = j.at("channels").get<int64_t>();
    spec.z_dim = j.at("z_dim").get<int64_t>();
    spec.width = j.at("width").get<int64_t>();
    spec.num_classes = j.at("num_classes").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    fail("GAN model description is invalid: ", e.what(), " in ", text);
  }
  spec.validate();
  return spec;
}

void GanSpec::validate() const {
  CFGAN_CHECK(discriminator == "dcgan" || discriminator == "sngan", "--model: expected dcgan or sngan, got '",
              discriminator, "'");
  CFGAN_CHECK(image_size == 28 || image_size == 32 || image_size == 64, "--image-size: expected 28, 32 or 64, got ",
              image_size);
  CFGAN_CHECK(channels == 1 || channels == 3, "image channels: expected 1 or 3, got ", channels);
  CFGAN_CHECK(z_dim >= 1, "--z-dim: must be >= 1, got ", z_dim);
  CFGAN_CHECK(width >= 1, "--width: must be >= 1, got ", width);
  CFGAN_CHECK(num_classes >= 0, "number of classes must be >= 0, got ", num_classes);
}

}  // namespace cfgan
