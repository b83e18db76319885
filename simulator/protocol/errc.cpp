#include "simulator/protocol/errc.hpp"
