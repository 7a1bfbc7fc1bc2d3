export { setup as default } from './summary';
