/** Wire formats shared by every node and the browser: SenML, device payloads, channel frames, topics. No node: imports. */
export * from './senml.ts';
export * from './payload.ts';
export * from './frame.ts';
export * from './topics.ts';
export * from './control.ts';
export * from './items.ts';
