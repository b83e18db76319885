#include "simulator/protocol/line_framer.hpp"
