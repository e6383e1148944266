// What every app's main() does around its body: any exception becomes one line on
// stderr, "<app>: <message>", and exit status 1.
#pragma once

namespace cfgan {

int run_app(const char* name, int (*body)(int argc, char** argv), int argc, char** argv);

}  // namespace cfgan
