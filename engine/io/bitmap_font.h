// A built-in 5x9 bitmap font for chart text, so plots need no font files at run time.
// Capitals and digits use rows 0-6 (baseline under row 6); rows 7-8 hold the descenders
// of g j p q y , ; _ . Each glyph advances 6 columns, leaving one blank column between letters.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cfgan {

inline constexpr int glyph_width = 5;
inline constexpr int glyph_height = 9;
inline constexpr int glyph_advance = glyph_width + 1;

using GlyphRows = std::array<uint8_t, glyph_height>;

// Rows top to bottom; bit 4 is the leftmost column. Printable ASCII is covered; any other
// byte shows as a hollow box so a missing glyph is visible rather than silently blank.
const GlyphRows& glyph_rows(char c);

inline bool glyph_pixel(char c, int x, int y) { return (glyph_rows(c)[y] >> (glyph_width - 1 - x)) & 1; }

// Width in pixels of `text` drawn at integer `scale`, without trailing spacing.
inline int text_width(std::string_view text, int scale) {
  return text.empty() ? 0 : (static_cast<int>(text.size()) * glyph_advance - 1) * scale;
}

}  // namespace cfgan
