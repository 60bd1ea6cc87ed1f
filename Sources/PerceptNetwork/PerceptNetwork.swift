// The CNN engine: layers with forward/backward passes, losses, optimisers, schedules, the
// input pipeline and the trainer (issue 5). Its own module so that the network code, the
// largest part of Percept, builds and tests apart from the classic models.
