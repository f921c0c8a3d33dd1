/** Resolves when a streamx writable wants more, or is gone (its error surfaces where the caller awaits its work). */
export const drained = (stream: NodeJS.EventEmitter): Promise<void> =>
  new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done);
      resolve();
    };
    stream.on('drain', done).on('close', done);
  });
