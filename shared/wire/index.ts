/** Wire formats shared by every node and the browser: SenML, device payloads. No node: imports. */
export * from './senml.ts';
export * from './payload.ts';
