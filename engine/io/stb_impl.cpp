// The one translation unit that compiles the stb single-header libraries; every other file
// includes the headers for declarations only. Debian's stb builds clean today, but other stb
// releases warn under -Wall -Wextra, so their warnings are silenced here and nowhere else.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define STB_IMAGE_IMPLEMENTATION
// The formats cfgan reads, and no others: TGA has no magic number, so with it compiled in
// stb takes almost any bytes for a TGA and decodes a damaged file for minutes.
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

#pragma GCC diagnostic pop
