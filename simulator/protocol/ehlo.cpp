#include "simulator/protocol/ehlo.hpp"
