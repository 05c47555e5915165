/* For the Arduino IDE, which adds only src/ of a library to the include path: the header is include/mqimg_rx.h. */
#include "../include/mqimg_rx.h"
