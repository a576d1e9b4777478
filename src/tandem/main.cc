// The composition root: everything real is built in cli/ and handed down.
#include "tandem/cli/command.h"

int main(int argc, char** argv) { return tandem::cli::Main(argc, argv); }
