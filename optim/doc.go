// Package optim holds the optimizers that update a model's parameters from their
// gradients.
//
// An optimizer works on named parameters (Param): flat float32 value slices, each with a
// gradient slice of the same length. It owns the per-parameter state it needs (AdamW's
// first and second moments) and exposes that state with exported fields so that a
// checkpoint can save it and restore it bit for bit (State, SetState).
//
// Learning-rate schedules are not an optimizer's business: the caller passes the rate of
// each step to Step, so a schedule is a plain function of the step number. Neither is
// clipping: the caller computes the scale and passes it to StepScaled, which applies it
// as the gradients are read (AdamW's kernel multiplies first, with Scale's bits).
package optim
